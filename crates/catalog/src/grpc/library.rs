//! `ottr.catalog.v1.LibraryService`: profiles, watchlists, progress, history and
//! continue-watching. Every call acts for the signed-in account, on its own profiles only.

use std::{collections::HashMap, sync::Arc};

use tonic::{Request, Response, Status};
use uuid::Uuid;

use ottr_proto::catalog::v1::{self as pb, library_service_server::LibraryService};
use ottr_runtime::token::Caller;

use super::{State, caller};
use crate::{
    CatalogError,
    domain::{
        self, Scope, Visibility, cursor, maturity, parse_id, parse_optional_id,
        progress::{Position, next_episode},
        text,
    },
    store::{library, progress, progress::ProgressRow, series, titles},
};

pub(crate) struct LibraryApi(pub Arc<State>);

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;
const CONTINUE_WATCHING: i64 = 20;

fn signed_in<T>(request: &Request<T>) -> Result<Caller, CatalogError> {
    caller(request).ok_or(CatalogError::Unauthenticated)
}

/// What a profile's lists may show: anything the account may open, as viewers do, within
/// the profile's maturity limit.
fn viewable(title: &pb::Title, scope: Scope, limit: Option<i32>) -> bool {
    let rating = title.fields.as_ref().map_or("", |f| f.maturity_rating.as_str());
    Visibility::from_proto(title.visibility).is_some_and(|v| scope.may_open(v)) && maturity::allows(limit, rating)
}

impl LibraryApi {
    /// The caller, their profile (with its maturity limit) and the title a watchlist
    /// request names.
    async fn watchlist_entry(
        &self,
        request: Request<pb::WatchlistRequest>,
    ) -> Result<(Caller, Uuid, Option<i32>, Uuid), CatalogError> {
        let caller = signed_in(&request)?;
        let body = request.into_inner();
        let (profile_id, limit) = self.0.own_profile_limit(&caller, &body.profile_id).await?;
        let title_id = parse_id("title_id", &body.title_id)?;
        Ok((caller, profile_id, limit, title_id))
    }

    /// Progress rows as wire items, with their titles and episodes, dropping titles the
    /// caller may no longer see (unpublished since).
    async fn items(
        &self,
        rows: Vec<(ProgressRow, bool)>,
        scope: Scope,
        limit: Option<i32>,
    ) -> Result<Vec<pb::Progress>, CatalogError> {
        let ids: Vec<Uuid> = rows.iter().map(|(r, _)| r.title_id).collect();
        let found: HashMap<String, pb::Title> =
            titles::get_many(&self.0.pool, &ids).await?.into_iter().map(|t| (t.id.clone(), t)).collect();
        let mut items = Vec::with_capacity(rows.len());
        for (row, up_next) in rows {
            let Some(title) = found.get(&row.title_id.to_string()).filter(|t| viewable(t, scope, limit)) else {
                continue;
            };
            let episode = match row.episode_id {
                Some(id) => series::get_episode(&self.0.pool, id).await?.map(Into::into),
                None => None,
            };
            let at = row.position();
            items.push(pb::Progress {
                title: Some(title.clone()),
                episode,
                position_secs: at.position_secs,
                duration_secs: at.duration_secs,
                updated_at: row.updated_at.unix_timestamp(),
                finished: !up_next && at.finished(),
                up_next,
            });
        }
        Ok(items)
    }
}

#[tonic::async_trait]
impl LibraryService for LibraryApi {
    #[tracing::instrument(skip_all)]
    async fn create_profile(
        &self,
        request: Request<pb::CreateProfileRequest>,
    ) -> Result<Response<pb::Profile>, Status> {
        let caller = signed_in(&request)?;
        let body = request.into_inner();
        let name = text("name", &body.name, 40, true)?;
        let limit = maturity::profile_limit(body.kids, &body.max_maturity_rating)?;
        Ok(Response::new(library::create_profile(&self.0.pool, caller.user_id, &name, limit.as_deref()).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn update_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Result<Response<pb::Profile>, Status> {
        let caller = signed_in(&request)?;
        let body = request.into_inner();
        let profile_id = parse_id("profile_id", &body.profile_id)?;
        let name = text("name", &body.name, 40, true)?;
        let limit = maturity::profile_limit(body.kids, &body.max_maturity_rating)?;
        let profile =
            library::update_profile(&self.0.pool, caller.user_id, profile_id, &name, limit.as_deref()).await?;
        Ok(Response::new(profile))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_profile(
        &self,
        request: Request<pb::DeleteProfileRequest>,
    ) -> Result<Response<pb::DeleteProfileResponse>, Status> {
        let caller = signed_in(&request)?;
        let profile_id = parse_id("profile_id", &request.into_inner().profile_id)?;
        library::delete_profile(&self.0.pool, caller.user_id, profile_id).await?;
        Ok(Response::new(pb::DeleteProfileResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn erase_my_data(
        &self,
        request: Request<pb::EraseMyDataRequest>,
    ) -> Result<Response<pb::EraseMyDataResponse>, Status> {
        let caller = signed_in(&request)?;
        let profiles_deleted = library::erase_account(&self.0.pool, caller.user_id).await? as u32;
        Ok(Response::new(pb::EraseMyDataResponse { profiles_deleted }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_profiles(
        &self,
        request: Request<pb::ListProfilesRequest>,
    ) -> Result<Response<pb::ListProfilesResponse>, Status> {
        let caller = signed_in(&request)?;
        let profiles = library::list_profiles(&self.0.pool, caller.user_id).await?;
        Ok(Response::new(pb::ListProfilesResponse { profiles }))
    }

    #[tracing::instrument(skip_all)]
    async fn add_to_watchlist(
        &self,
        request: Request<pb::WatchlistRequest>,
    ) -> Result<Response<pb::WatchlistResponse>, Status> {
        let (caller, profile_id, limit, title_id) = self.watchlist_entry(request).await?;
        self.0.title_for_profile(&title_id.to_string(), Scope::of(Some(&caller)), limit).await?;
        library::add_to_watchlist(&self.0.pool, profile_id, title_id).await?;
        Ok(Response::new(pb::WatchlistResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn remove_from_watchlist(
        &self,
        request: Request<pb::WatchlistRequest>,
    ) -> Result<Response<pb::WatchlistResponse>, Status> {
        let (_, profile_id, _, title_id) = self.watchlist_entry(request).await?;
        library::remove_from_watchlist(&self.0.pool, profile_id, title_id).await?;
        Ok(Response::new(pb::WatchlistResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn list_watchlist(
        &self,
        request: Request<pb::ListWatchlistRequest>,
    ) -> Result<Response<pb::ListTitlesResponse>, Status> {
        let caller = signed_in(&request)?;
        let (profile_id, limit) = self.0.own_profile_limit(&caller, &request.into_inner().profile_id).await?;
        let ids = library::watchlist(&self.0.pool, profile_id).await?;
        let scope = Scope::of(Some(&caller));
        let titles = titles::get_many(&self.0.pool, &ids).await?;
        let titles = titles.into_iter().filter(|t| viewable(t, scope, limit)).collect();
        Ok(Response::new(pb::ListTitlesResponse { titles, next_page_token: String::new() }))
    }

    #[tracing::instrument(skip_all)]
    async fn record_progress(
        &self,
        request: Request<pb::RecordProgressRequest>,
    ) -> Result<Response<pb::Progress>, Status> {
        let caller = signed_in(&request)?;
        let scope = Scope::of(Some(&caller));
        let body = request.into_inner();
        let (profile_id, limit) = self.0.own_profile_limit(&caller, &body.profile_id).await?;
        let at = Position::new(body.position_secs, body.duration_secs)?;
        let (title_id, episode_id) = match parse_optional_id("episode_id", &body.episode_id)? {
            Some(episode_id) => {
                let episode =
                    series::get_episode(&self.0.pool, episode_id).await?.ok_or(CatalogError::NotFound("episode"))?;
                (episode.series_id, Some(episode_id))
            }
            None => (parse_id("title_id", &body.title_id)?, None),
        };
        let title = self.0.title_for_profile(&title_id.to_string(), scope, limit).await?;
        let is_series = title.fields.as_ref().is_some_and(|f| f.kind == pb::Kind::Series as i32);
        if is_series && episode_id.is_none() {
            return Err(CatalogError::invalid("episode_id", "progress in a series is kept per episode").into());
        }
        let row =
            progress::record(&self.0.pool, profile_id, title_id, episode_id, at, self.0.analytics.enabled).await?;
        let item = self.items(vec![(row, false)], scope, limit).await?.pop().ok_or(CatalogError::NotFound("title"))?;
        Ok(Response::new(item))
    }

    #[tracing::instrument(skip_all)]
    async fn list_history(
        &self,
        request: Request<pb::ListHistoryRequest>,
    ) -> Result<Response<pb::ListHistoryResponse>, Status> {
        let caller = signed_in(&request)?;
        let body = request.into_inner();
        let (profile_id, limit) = self.0.own_profile_limit(&caller, &body.profile_id).await?;
        let size = domain::page_size(body.page_size, DEFAULT_PAGE, MAX_PAGE);
        let after = cursor::decode::<(i64, Uuid)>(&body.page_token)?;
        let mut rows = progress::history(&self.0.pool, profile_id, after, size + 1).await?;
        let next_page_token = if rows.len() as i64 > size {
            rows.truncate(size as usize);
            rows.last().map(|r| cursor::encode(&r.sort_key())).unwrap_or_default()
        } else {
            String::new()
        };
        let rows = rows.into_iter().map(|r| (r, false)).collect();
        let items = self.items(rows, Scope::of(Some(&caller)), limit).await?;
        Ok(Response::new(pb::ListHistoryResponse { items, next_page_token }))
    }

    #[tracing::instrument(skip_all)]
    async fn continue_watching(
        &self,
        request: Request<pb::ContinueWatchingRequest>,
    ) -> Result<Response<pb::ListHistoryResponse>, Status> {
        let caller = signed_in(&request)?;
        let (profile_id, limit) = self.0.own_profile_limit(&caller, &request.into_inner().profile_id).await?;
        let mut rows = Vec::new();
        for row in progress::latest_per_title(&self.0.pool, profile_id, CONTINUE_WATCHING * 2).await? {
            let at = row.position();
            if at.in_progress() {
                rows.push((row, false));
            } else if let (true, Some(finished)) = (at.finished(), row.episode_id) {
                let order: Vec<Uuid> =
                    series::episodes_in_order(&self.0.pool, row.title_id).await?.iter().map(|e| e.id).collect();
                if let Some(next) = next_episode(&order, finished) {
                    let up_next = ProgressRow { item_id: next, episode_id: Some(next), position_secs: 0.0, ..row };
                    rows.push((up_next, true));
                }
            }
        }
        rows.truncate(CONTINUE_WATCHING as usize);
        let items = self.items(rows, Scope::of(Some(&caller)), limit).await?;
        Ok(Response::new(pb::ListHistoryResponse { items, next_page_token: String::new() }))
    }
}
