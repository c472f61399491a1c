//! `/api/v1/titles`, `/api/v1/search` and `/api/v1/series`, relayed to the catalog.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::HeaderMap,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use ottr_proto::catalog::v1 as pb;

use super::Api;
use crate::{EdgeError, error::ErrorBody, upstream::forward};

#[derive(Serialize, ToSchema)]
pub(super) struct Credit {
    pub name: String,
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Title {
    pub id: String,
    /// `movie` or `series`.
    pub kind: String,
    pub slug: String,
    pub title: String,
    pub synopsis: String,
    pub release_year: u32,
    pub runtime_secs: u32,
    pub maturity_rating: String,
    pub genres: Vec<String>,
    pub tags: Vec<String>,
    pub credits: Vec<Credit>,
    pub poster_url: String,
    pub backdrop_url: String,
    /// Movies: the asset that plays it, empty until attached.
    pub asset_id: String,
    /// Playback hands out a signed MP4 download (a series: of every episode).
    pub downloadable: bool,
    /// `draft`, `published` or `unlisted`.
    pub visibility: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: i64,
}

fn enum_name(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_lowercase()
}

impl From<pb::Title> for Title {
    fn from(t: pb::Title) -> Self {
        let f = t.fields.unwrap_or_default();
        let artwork = f.artwork.unwrap_or_default();
        let (has_asset, is_series) = (!f.asset_id.is_empty(), f.kind == pb::Kind::Series as i32);
        let poster_url = if artwork.poster_url.is_empty() && (has_asset || is_series) {
            // Without artwork of its own, the poster route shows a frame of what it plays.
            format!("/api/v1/titles/{}/poster", t.id)
        } else {
            artwork.poster_url
        };
        Self {
            id: t.id,
            kind: enum_name(pb::Kind::try_from(f.kind).unwrap_or_default().as_str_name(), "KIND_"),
            slug: f.slug,
            title: f.title,
            synopsis: f.synopsis,
            release_year: f.release_year,
            runtime_secs: f.runtime_secs,
            maturity_rating: f.maturity_rating,
            genres: f.genres,
            tags: f.tags,
            credits: f.credits.into_iter().map(|c| Credit { name: c.name, role: c.role }).collect(),
            poster_url,
            backdrop_url: artwork.backdrop_url,
            asset_id: f.asset_id,
            downloadable: f.downloadable,
            visibility: enum_name(
                pb::Visibility::try_from(t.visibility).unwrap_or_default().as_str_name(),
                "VISIBILITY_",
            ),
            created_at: t.created_at,
            updated_at: t.updated_at,
            published_at: t.published_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct TitlePage {
    pub titles: Vec<Title>,
    /// Pass back as `page_token` for the next page; empty on the last.
    pub next_page_token: String,
}

impl From<pb::ListTitlesResponse> for TitlePage {
    fn from(page: pb::ListTitlesResponse) -> Self {
        Self { titles: page.titles.into_iter().map(Into::into).collect(), next_page_token: page.next_page_token }
    }
}

#[derive(Deserialize, IntoParams)]
pub(super) struct ListQuery {
    pub genre: Option<String>,
    /// `movie` or `series`.
    pub kind: Option<String>,
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
    /// The viewer's profile: a kids profile sees only titles within its maturity limit.
    pub profile: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub(super) struct SearchQuery {
    /// Words; each matches as a prefix, accents and case ignored.
    pub q: String,
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
    /// The viewer's profile: a kids profile finds only titles within its maturity limit.
    pub profile: Option<String>,
}

/// `?profile=` on a single title, series or playback: a kids profile gets "not found"
/// for what is above its limit.
#[derive(Deserialize, IntoParams)]
pub(super) struct ProfileQuery {
    pub profile: Option<String>,
}

/// Published titles, newest first (editors also see drafts).
#[utoipa::path(get, path = "/api/v1/titles", params(ListQuery), tag = "catalog",
    responses((status = 200, body = TitlePage), (status = 400, body = ErrorBody)))]
pub(super) async fn list_titles(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<TitlePage>, EdgeError> {
    let kind = match q.kind.as_deref() {
        None | Some("") => pb::Kind::Unspecified,
        Some("movie") => pb::Kind::Movie,
        Some("series") => pb::Kind::Series,
        Some(_) => return Err(EdgeError::InvalidArgument("kind must be movie or series".into())),
    };
    let message = pb::ListTitlesRequest {
        genre: q.genre.unwrap_or_default(),
        kind: kind as i32,
        page_size: q.page_size.unwrap_or(0),
        page_token: q.page_token.unwrap_or_default(),
        profile_id: q.profile.unwrap_or_default(),
    };
    Ok(Json(api.upstream.catalog.clone().list_titles(forward(&headers, message)).await?.into_inner().into()))
}

/// A title by id or slug.
#[utoipa::path(get, path = "/api/v1/titles/{id}", params(("id" = String, Path, description = "id or slug"), ProfileQuery), tag = "catalog",
    responses((status = 200, body = Title), (status = 404, body = ErrorBody)))]
pub(super) async fn get_title(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ProfileQuery>,
) -> Result<Json<Title>, EdgeError> {
    let message = pb::GetTitleRequest { id_or_slug: id, profile_id: q.profile.unwrap_or_default() };
    let request = forward(&headers, message);
    Ok(Json(api.upstream.catalog.clone().get_title(request).await?.into_inner().into()))
}

/// Full-text search, title matches first.
#[utoipa::path(get, path = "/api/v1/search", params(SearchQuery), tag = "catalog",
    responses((status = 200, body = TitlePage), (status = 400, body = ErrorBody)))]
pub(super) async fn search(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Result<Json<TitlePage>, EdgeError> {
    let message = pb::SearchTitlesRequest {
        query: q.q,
        page_size: q.page_size.unwrap_or(0),
        page_token: q.page_token.unwrap_or_default(),
        profile_id: q.profile.unwrap_or_default(),
    };
    Ok(Json(api.upstream.catalog.clone().search_titles(forward(&headers, message)).await?.into_inner().into()))
}

#[derive(Serialize, ToSchema)]
pub(super) struct Episode {
    pub id: String,
    pub season_number: u32,
    pub number: u32,
    pub title: String,
    pub synopsis: String,
    pub runtime_secs: u32,
    pub asset_id: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Season {
    pub id: String,
    pub number: u32,
    pub title: String,
    pub episodes: Vec<Episode>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Series {
    pub title: Option<Title>,
    pub seasons: Vec<Season>,
}

impl From<pb::Episode> for Episode {
    fn from(e: pb::Episode) -> Self {
        let f = e.fields.unwrap_or_default();
        Self {
            id: e.id,
            season_number: e.season_number,
            number: f.number,
            title: f.title,
            synopsis: f.synopsis,
            runtime_secs: f.runtime_secs,
            asset_id: f.asset_id,
        }
    }
}

impl From<pb::Series> for Series {
    fn from(s: pb::Series) -> Self {
        let seasons = s
            .seasons
            .into_iter()
            .map(|season| Season {
                id: season.id,
                number: season.number,
                title: season.title,
                episodes: season.episodes.into_iter().map(Into::into).collect(),
            })
            .collect();
        Self { title: s.title.map(Into::into), seasons }
    }
}

/// A series with its seasons and episodes in order.
#[utoipa::path(get, path = "/api/v1/series/{id}", params(("id" = String, Path, description = "id or slug"), ProfileQuery), tag = "catalog",
    responses((status = 200, body = Series), (status = 404, body = ErrorBody)))]
pub(super) async fn get_series(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ProfileQuery>,
) -> Result<Json<Series>, EdgeError> {
    let message = pb::GetSeriesRequest { id_or_slug: id, profile_id: q.profile.unwrap_or_default() };
    let request = forward(&headers, message);
    Ok(Json(api.upstream.catalog.clone().get_series(request).await?.into_inner().into()))
}

/// The editable fields of a title, for editors.
#[derive(Deserialize, ToSchema)]
pub(super) struct TitleInput {
    /// `movie` or `series`.
    pub kind: String,
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub synopsis: String,
    #[serde(default)]
    pub release_year: u32,
    #[serde(default)]
    pub runtime_secs: u32,
    #[serde(default)]
    pub maturity_rating: String,
    #[serde(default)]
    pub genres: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub poster_url: String,
    #[serde(default)]
    pub backdrop_url: String,
    #[serde(default)]
    pub asset_id: String,
    /// Playback also hands out a signed MP4 download (a series: of every episode).
    #[serde(default)]
    pub downloadable: bool,
}

impl TitleInput {
    fn into_fields(self) -> Result<pb::TitleFields, EdgeError> {
        let kind = match self.kind.as_str() {
            "movie" => pb::Kind::Movie,
            "series" => pb::Kind::Series,
            _ => return Err(EdgeError::InvalidArgument("kind must be movie or series".into())),
        };
        Ok(pb::TitleFields {
            kind: kind as i32,
            slug: self.slug,
            title: self.title,
            synopsis: self.synopsis,
            release_year: self.release_year,
            runtime_secs: self.runtime_secs,
            maturity_rating: self.maturity_rating,
            genres: self.genres,
            tags: self.tags,
            credits: Vec::new(),
            artwork: Some(pb::Artwork { poster_url: own_artwork(self.poster_url), backdrop_url: self.backdrop_url }),
            asset_id: self.asset_id,
            downloadable: self.downloadable,
        })
    }
}

/// A poster URL a client sends back as it read it: the poster route stands for "no
/// artwork of its own", and must not become the title's own (it would point at itself).
fn own_artwork(url: String) -> String {
    let synthesized = url.strip_prefix("/api/v1/titles/").is_some_and(|rest| rest.ends_with("/poster"));
    if synthesized { String::new() } else { url }
}

#[derive(Deserialize, ToSchema)]
pub(super) struct VisibilityInput {
    /// `draft`, `published` or `unlisted`.
    pub visibility: String,
}

/// Creates a draft title (editors).
#[utoipa::path(post, path = "/api/v1/titles", request_body = TitleInput, tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Title), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn create_title(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(input): Json<TitleInput>,
) -> Result<Json<Title>, EdgeError> {
    let request = forward(&headers, pb::CreateTitleRequest { fields: Some(input.into_fields()?) });
    Ok(Json(api.upstream.catalog.clone().create_title(request).await?.into_inner().into()))
}

/// Replaces a title's fields, for example to attach its asset (editors).
#[utoipa::path(put, path = "/api/v1/titles/{id}", params(("id" = String, Path)), request_body = TitleInput, tag = "catalog",
    security(("bearer" = [])), responses((status = 200, body = Title), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn update_title(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(input): Json<TitleInput>,
) -> Result<Json<Title>, EdgeError> {
    let request = forward(&headers, pb::UpdateTitleRequest { id, fields: Some(input.into_fields()?) });
    Ok(Json(api.upstream.catalog.clone().update_title(request).await?.into_inner().into()))
}

/// Publishes, unlists or returns a title to draft (editors).
#[utoipa::path(put, path = "/api/v1/titles/{id}/visibility", params(("id" = String, Path)), request_body = VisibilityInput,
    tag = "catalog", security(("bearer" = [])), responses((status = 200, body = Title), (status = 404, body = ErrorBody)))]
pub(super) async fn set_visibility(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(input): Json<VisibilityInput>,
) -> Result<Json<Title>, EdgeError> {
    let visibility = match input.visibility.as_str() {
        "draft" => pb::Visibility::Draft,
        "published" => pb::Visibility::Published,
        "unlisted" => pb::Visibility::Unlisted,
        _ => return Err(EdgeError::InvalidArgument("visibility must be draft, published or unlisted".into())),
    };
    let request = forward(&headers, pb::SetVisibilityRequest { id, visibility: visibility as i32 });
    Ok(Json(api.upstream.catalog.clone().set_visibility(request).await?.into_inner().into()))
}
