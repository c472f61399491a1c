//! `ottr.catalog.v1.CatalogService`: titles, series, browsing and search.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use ottr_proto::catalog::v1::{self as pb, catalog_service_server::CatalogService};

use super::{State, caller};
use crate::{
    CatalogError,
    domain::{self, EpisodeFields, Kind, Scope, TitleFields, Visibility, cursor, parse_id, text},
    store::{removal, series, titles, views},
};

pub(crate) struct CatalogApi(pub Arc<State>);

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;
const MAX_SEARCH_WORDS: usize = 8;

fn deleted(asset_ids: &[uuid::Uuid]) -> pb::Deleted {
    pb::Deleted { asset_ids: asset_ids.iter().map(ToString::to_string).collect() }
}

fn required<T>(field: &'static str, value: Option<T>) -> Result<T, CatalogError> {
    value.ok_or_else(|| CatalogError::invalid(field, "is required"))
}

/// Search words: runs of letters and digits, lower-cased. Everything else separates
/// words, so nothing from the query reaches the tsquery syntax.
fn search_words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_SEARCH_WORDS)
        .map(str::to_lowercase)
        .collect()
}

#[tonic::async_trait]
impl CatalogService for CatalogApi {
    #[tracing::instrument(skip_all)]
    async fn create_title(&self, request: Request<pb::CreateTitleRequest>) -> Result<Response<pb::Title>, Status> {
        Scope::require_staff(caller(&request).as_ref())?;
        let fields = TitleFields::try_from(required("fields", request.into_inner().fields)?)?;
        let title = titles::insert(&self.0.pool, &fields).await?;
        self.0.cache.invalidate(self.0.title_keys(&title, None)).await;
        Ok(Response::new(title))
    }

    #[tracing::instrument(skip_all)]
    async fn update_title(&self, request: Request<pb::UpdateTitleRequest>) -> Result<Response<pb::Title>, Status> {
        Scope::require_staff(caller(&request).as_ref())?;
        let body = request.into_inner();
        let id = parse_id("id", &body.id)?;
        let fields = TitleFields::try_from(required("fields", body.fields)?)?;
        let (title, old_slug) = titles::update(&self.0.pool, id, &fields).await?;
        self.0.cache.invalidate(self.0.title_keys(&title, Some(&old_slug))).await;
        Ok(Response::new(title))
    }

    #[tracing::instrument(skip_all)]
    async fn set_visibility(&self, request: Request<pb::SetVisibilityRequest>) -> Result<Response<pb::Title>, Status> {
        Scope::require_staff(caller(&request).as_ref())?;
        let body = request.into_inner();
        let id = parse_id("id", &body.id)?;
        let visibility = Visibility::from_proto(body.visibility)
            .ok_or_else(|| CatalogError::invalid("visibility", "must be draft, published or unlisted"))?;
        let title = titles::set_visibility(&self.0.pool, id, visibility).await?;
        self.0.cache.invalidate(self.0.title_keys(&title, None)).await;
        Ok(Response::new(title))
    }

    #[tracing::instrument(skip_all)]
    async fn get_title(&self, request: Request<pb::GetTitleRequest>) -> Result<Response<pb::Title>, Status> {
        let caller = caller(&request);
        let body = request.into_inner();
        let limit = self.0.limit_of(caller.as_ref(), &body.profile_id).await?;
        Ok(Response::new(self.0.title_for_profile(&body.id_or_slug, Scope::of(caller.as_ref()), limit).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn list_titles(
        &self,
        request: Request<pb::ListTitlesRequest>,
    ) -> Result<Response<pb::ListTitlesResponse>, Status> {
        let caller = caller(&request);
        let scope = Scope::of(caller.as_ref());
        let body = request.into_inner();
        let limit = self.0.limit_of(caller.as_ref(), &body.profile_id).await?;
        let genre = Some(body.genre.trim().to_lowercase()).filter(|g| !g.is_empty());
        let kind = Kind::from_proto(body.kind);
        let size = domain::page_size(body.page_size, DEFAULT_PAGE, MAX_PAGE);
        let after = cursor::decode::<(i64, uuid::Uuid)>(&body.page_token)?;
        let key = self
            .0
            .cache
            .page_key(&format!(
                "{}:{}:{}:{}:{size}:{}",
                scope.as_str(),
                limit.map_or(String::new(), |l| l.to_string()),
                genre.as_deref().unwrap_or(""),
                kind.map_or("", Kind::as_str),
                body.page_token
            ))
            .await;
        if let Some(key) = &key
            && let Some(page) = self.0.cache.get::<pb::ListTitlesResponse>(key).await
        {
            return Ok(Response::new(page));
        }
        let mut rows = titles::list(&self.0.pool, scope, limit, genre.as_deref(), kind, after, size + 1).await?;
        let next_page_token = if rows.len() as i64 > size {
            rows.truncate(size as usize);
            rows.last().map(|r| cursor::encode(&r.sort_key())).unwrap_or_default()
        } else {
            String::new()
        };
        let page = pb::ListTitlesResponse { titles: rows.into_iter().map(Into::into).collect(), next_page_token };
        if let Some(key) = &key {
            self.0.cache.put(key, &page).await;
        }
        Ok(Response::new(page))
    }

    #[tracing::instrument(skip_all)]
    async fn search_titles(
        &self,
        request: Request<pb::SearchTitlesRequest>,
    ) -> Result<Response<pb::ListTitlesResponse>, Status> {
        let caller = caller(&request);
        let scope = Scope::of(caller.as_ref());
        let body = request.into_inner();
        let limit = self.0.limit_of(caller.as_ref(), &body.profile_id).await?;
        let words = search_words(&body.query);
        if words.is_empty() {
            return Err(CatalogError::invalid("query", "must contain a word").into());
        }
        let size = domain::page_size(body.page_size, DEFAULT_PAGE, MAX_PAGE);
        let after = cursor::decode::<(f32, uuid::Uuid)>(&body.page_token)?;
        let fuzzy = self.0.search.fuzzy;
        let mut rows = titles::search(&self.0.pool, scope, limit, &words, after, size + 1, fuzzy).await?;
        let next_page_token = if rows.len() as i64 > size {
            rows.truncate(size as usize);
            rows.last().map(|(r, score)| cursor::encode(&(*score, r.sort_key().1))).unwrap_or_default()
        } else {
            String::new()
        };
        let titles = rows.into_iter().map(|(row, _)| row.into()).collect();
        Ok(Response::new(pb::ListTitlesResponse { titles, next_page_token }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_season(&self, request: Request<pb::CreateSeasonRequest>) -> Result<Response<pb::Season>, Status> {
        Scope::require_staff(caller(&request).as_ref())?;
        let body = request.into_inner();
        let series_id = parse_id("series_id", &body.series_id)?;
        if body.number > 1000 {
            return Err(CatalogError::invalid("number", "must be 0 (specials) to 1000").into());
        }
        let title = text("title", &body.title, 200, false)?;
        let synopsis = text("synopsis", &body.synopsis, 5000, false)?;
        let season = series::create_season(&self.0.pool, series_id, body.number as i32, &title, &synopsis).await?;
        self.0.cache.invalidate(vec![self.0.cache.series_key(&body.series_id)]).await;
        Ok(Response::new(season))
    }

    #[tracing::instrument(skip_all)]
    async fn create_episode(
        &self,
        request: Request<pb::CreateEpisodeRequest>,
    ) -> Result<Response<pb::Episode>, Status> {
        Scope::require_staff(caller(&request).as_ref())?;
        let body = request.into_inner();
        let season_id = parse_id("season_id", &body.season_id)?;
        let fields = EpisodeFields::try_from(required("fields", body.fields)?)?;
        series::series_of_season(&self.0.pool, season_id).await?;
        let episode = series::create_episode(&self.0.pool, season_id, &fields).await?;
        self.0.cache.invalidate(vec![self.0.cache.series_key(&episode.series_id.to_string())]).await;
        Ok(Response::new(episode.into()))
    }

    #[tracing::instrument(skip_all)]
    async fn update_episode(
        &self,
        request: Request<pb::UpdateEpisodeRequest>,
    ) -> Result<Response<pb::Episode>, Status> {
        Scope::require_staff(caller(&request).as_ref())?;
        let body = request.into_inner();
        let id = parse_id("id", &body.id)?;
        let fields = EpisodeFields::try_from(required("fields", body.fields)?)?;
        let episode = series::update_episode(&self.0.pool, id, &fields).await?;
        self.0.cache.invalidate(vec![self.0.cache.series_key(&episode.series_id.to_string())]).await;
        Ok(Response::new(episode.into()))
    }

    #[tracing::instrument(skip_all)]
    async fn get_series(&self, request: Request<pb::GetSeriesRequest>) -> Result<Response<pb::Series>, Status> {
        let caller = caller(&request);
        let body = request.into_inner();
        let limit = self.0.limit_of(caller.as_ref(), &body.profile_id).await?;
        let title = self.0.title_for_profile(&body.id_or_slug, Scope::of(caller.as_ref()), limit).await?;
        let is_series = title.fields.as_ref().is_some_and(|f| f.kind == pb::Kind::Series as i32);
        if !is_series {
            return Err(CatalogError::NotFound("series").into());
        }
        let key = self.0.cache.series_key(&title.id);
        if let Some(tree) = self.0.cache.get::<pb::Series>(&key).await {
            return Ok(Response::new(tree));
        }
        let series_id = parse_id("id", &title.id)?;
        let tree = pb::Series { seasons: series::seasons(&self.0.pool, series_id).await?, title: Some(title) };
        self.0.cache.put(&key, &tree).await;
        Ok(Response::new(tree))
    }

    #[tracing::instrument(skip_all)]
    async fn get_episode(
        &self,
        request: Request<pb::GetEpisodeRequest>,
    ) -> Result<Response<pb::EpisodeInSeries>, Status> {
        let caller = caller(&request);
        let body = request.into_inner();
        let limit = self.0.limit_of(caller.as_ref(), &body.profile_id).await?;
        let id = parse_id("id", &body.id)?;
        let episode = series::get_episode(&self.0.pool, id).await?.ok_or(CatalogError::NotFound("episode"))?;
        // The series' visibility covers its episodes: one of a draft is no more there than it.
        let series =
            self.0.title_for_profile(&episode.series_id.to_string(), Scope::of(caller.as_ref()), limit).await.map_err(
                |error| match error {
                    CatalogError::NotFound(_) => CatalogError::NotFound("episode"),
                    other => other,
                },
            )?;
        let next = series::next_episode(&self.0.pool, &episode).await?;
        Ok(Response::new(pb::EpisodeInSeries {
            series: Some(series),
            episode: Some(episode.into()),
            next: next.map(Into::into),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_title(&self, request: Request<pb::DeleteTitleRequest>) -> Result<Response<pb::Deleted>, Status> {
        Scope::require_staff(caller(&request).as_ref())?;
        let id = parse_id("id", &request.into_inner().id)?;
        let removed = removal::delete_title(&self.0.pool, id).await?;
        self.0.cache.invalidate(self.0.removed_keys(&removed.title_id.to_string(), removed.slug.as_deref())).await;
        Ok(Response::new(deleted(&removed.asset_ids)))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_episode(
        &self,
        request: Request<pb::DeleteEpisodeRequest>,
    ) -> Result<Response<pb::Deleted>, Status> {
        Scope::require_staff(caller(&request).as_ref())?;
        let id = parse_id("id", &request.into_inner().id)?;
        let removed = removal::delete_episode(&self.0.pool, id).await?;
        self.0.cache.invalidate(vec![self.0.cache.series_key(&removed.title_id.to_string())]).await;
        Ok(Response::new(deleted(&removed.asset_ids)))
    }

    #[tracing::instrument(skip_all)]
    async fn detach_asset(
        &self,
        request: Request<pb::DetachAssetRequest>,
    ) -> Result<Response<pb::DetachAssetResponse>, Status> {
        Scope::require_staff(caller(&request).as_ref())?;
        let asset_id = parse_id("asset_id", &request.into_inner().asset_id)?;
        let detached = removal::detach_asset(&self.0.pool, asset_id).await?;
        let mut keys = Vec::new();
        for (id, slug) in &detached.titles {
            keys.extend(self.0.removed_keys(&id.to_string(), Some(slug)));
        }
        keys.extend(detached.episodes.iter().map(|(_, series)| self.0.cache.series_key(&series.to_string())));
        self.0.cache.invalidate(keys).await;
        Ok(Response::new(pb::DetachAssetResponse {
            title_ids: detached.titles.iter().map(|(id, _)| id.to_string()).collect(),
            episode_ids: detached.episodes.iter().map(|(id, _)| id.to_string()).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_viewing_stats(
        &self,
        request: Request<pb::GetViewingStatsRequest>,
    ) -> Result<Response<pb::ViewingStats>, Status> {
        Scope::require_staff(caller(&request).as_ref())?;
        let body = request.into_inner();
        let title_id = domain::parse_optional_id("title_id", &body.title_id)?;
        let (from, to) = domain::views::range(body.days, domain::views::today())?;
        if let Some(id) = title_id {
            self.0.title(&id.to_string()).await?.ok_or(CatalogError::NotFound("title"))?;
        }
        let mut rows = views::figures(&self.0.pool, title_id, from, to).await?;
        // GROUPING SETS puts the range's total (no day) last.
        let total = rows.pop().filter(|row| row.day.is_none()).unwrap_or_default();
        let found = rows.into_iter().filter_map(|row| Some((row.day?, day_figures(row)))).collect();
        let days = domain::views::every_day(from, to, found, |day| pb::DayFigures {
            day: day.to_string(),
            ..Default::default()
        });
        let top = match title_id {
            Some(_) => Vec::new(),
            None => {
                views::top_titles(&self.0.pool, from, to, TOP_TITLES).await?.into_iter().map(title_figures).collect()
            }
        };
        Ok(Response::new(pb::ViewingStats { days, total: Some(day_figures(total)), top }))
    }
}

const TOP_TITLES: i64 = 10;

fn day_figures(row: views::Figures) -> pb::DayFigures {
    pb::DayFigures {
        day: row.day.map(|day| day.to_string()).unwrap_or_default(),
        plays: row.plays,
        viewers: row.viewers,
        watch_secs: row.watch_secs,
        completions: row.completions,
    }
}

fn title_figures(row: views::TitleFigures) -> pb::TitleFigures {
    pb::TitleFigures {
        title_id: row.title_id.to_string(),
        title: row.title,
        figures: Some(pb::DayFigures {
            day: String::new(),
            plays: row.plays,
            viewers: row.viewers,
            watch_secs: row.watch_secs,
            completions: row.completions,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::search_words;

    #[test]
    fn search_words_keep_letters_and_digits_only() {
        assert_eq!(search_words("Amélie & 'Paris':* | !x"), vec!["amélie", "paris", "x"]);
        assert!(search_words(" :*&|! ").is_empty());
        assert_eq!(search_words("a b c d e f g h i j").len(), 8);
    }
}
