//! `/api/v1/profiles/*`: profiles, watchlist, playback progress, history and
//! continue-watching, relayed to the catalog's LibraryService for the signed-in account.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use ottr_proto::catalog::v1 as pb;

use super::{
    Api,
    catalog::{Episode, Title, TitlePage},
};
use crate::{EdgeError, error::ErrorBody, upstream::forward};

#[derive(Serialize, ToSchema)]
pub(super) struct Profile {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    /// A kids profile sees only titles rated at or below `max_maturity_rating`; pass its id
    /// as `?profile=` when browsing, searching and playing.
    pub kids: bool,
    pub max_maturity_rating: String,
}

/// A profile's name and kind, for creating and for changing one.
#[derive(Deserialize, ToSchema)]
pub(super) struct NewProfile {
    pub name: String,
    #[serde(default)]
    pub kids: bool,
    /// For a kids profile: G, PG, PG-13, TV-Y, TV-Y7, TV-G, TV-PG or TV-14; PG when left out.
    #[serde(default)]
    pub max_maturity_rating: String,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct ProgressReport {
    /// A movie's id; for an episode, give `episode_id` instead.
    #[serde(default)]
    pub title_id: String,
    #[serde(default)]
    pub episode_id: String,
    pub position_secs: f64,
    pub duration_secs: f64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Progress {
    pub title: Option<Title>,
    /// Set when the item is an episode.
    pub episode_id: String,
    /// The episode itself, when the item is one: what to show and what to play.
    pub episode: Option<Episode>,
    pub position_secs: f64,
    pub duration_secs: f64,
    pub updated_at: i64,
    pub finished: bool,
    /// In continue-watching: the next episode, not started yet.
    pub up_next: bool,
}

#[derive(Serialize, ToSchema)]
pub(super) struct ProgressPage {
    pub items: Vec<Progress>,
    pub next_page_token: String,
}

#[derive(Deserialize, IntoParams)]
pub(super) struct PageQuery {
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
}

impl From<pb::Progress> for Progress {
    fn from(p: pb::Progress) -> Self {
        Self {
            title: p.title.map(Into::into),
            episode_id: p.episode.as_ref().map(|e| e.id.clone()).unwrap_or_default(),
            episode: p.episode.map(Into::into),
            position_secs: p.position_secs,
            duration_secs: p.duration_secs,
            updated_at: p.updated_at,
            finished: p.finished,
            up_next: p.up_next,
        }
    }
}

impl From<pb::ListHistoryResponse> for ProgressPage {
    fn from(page: pb::ListHistoryResponse) -> Self {
        Self { items: page.items.into_iter().map(Into::into).collect(), next_page_token: page.next_page_token }
    }
}

fn profile(p: pb::Profile) -> Profile {
    Profile {
        id: p.id,
        name: p.name,
        created_at: p.created_at,
        kids: p.kids,
        max_maturity_rating: p.max_maturity_rating,
    }
}

/// The account's profiles.
#[utoipa::path(get, path = "/api/v1/profiles", tag = "library", security(("bearer" = [])),
    responses((status = 200, body = [Profile]), (status = 401, body = ErrorBody)))]
pub(super) async fn list_profiles(State(api): State<Api>, headers: HeaderMap) -> Result<Json<Vec<Profile>>, EdgeError> {
    let found =
        api.upstream.library.clone().list_profiles(forward(&headers, pb::ListProfilesRequest {})).await?.into_inner();
    Ok(Json(found.profiles.into_iter().map(profile).collect()))
}

/// Adds a profile (at most five per account).
#[utoipa::path(post, path = "/api/v1/profiles", request_body = NewProfile, tag = "library", security(("bearer" = [])),
    responses((status = 200, body = Profile), (status = 409, body = ErrorBody)))]
pub(super) async fn create_profile(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(body): Json<NewProfile>,
) -> Result<Json<Profile>, EdgeError> {
    let message =
        pb::CreateProfileRequest { name: body.name, kids: body.kids, max_maturity_rating: body.max_maturity_rating };
    let request = forward(&headers, message);
    Ok(Json(profile(api.upstream.library.clone().create_profile(request).await?.into_inner())))
}

/// Renames a profile, or makes it a kids profile (with a limit) or a grown-up one.
#[utoipa::path(put, path = "/api/v1/profiles/{profile}", params(("profile" = String, Path)), request_body = NewProfile,
    tag = "library", security(("bearer" = [])),
    responses((status = 200, body = Profile), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn update_profile(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(profile_id): Path<String>,
    Json(body): Json<NewProfile>,
) -> Result<Json<Profile>, EdgeError> {
    let message = pb::UpdateProfileRequest {
        profile_id,
        name: body.name,
        kids: body.kids,
        max_maturity_rating: body.max_maturity_rating,
    };
    let request = forward(&headers, message);
    Ok(Json(profile(api.upstream.library.clone().update_profile(request).await?.into_inner())))
}

/// Removes a profile with its watchlist, progress and history.
#[utoipa::path(delete, path = "/api/v1/profiles/{profile}", params(("profile" = String, Path)), tag = "library",
    security(("bearer" = [])), responses((status = 204), (status = 404, body = ErrorBody)))]
pub(super) async fn delete_profile(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(profile_id): Path<String>,
) -> Result<StatusCode, EdgeError> {
    let request = forward(&headers, pb::DeleteProfileRequest { profile_id });
    api.upstream.library.clone().delete_profile(request).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The profile's watchlist, most recently added first.
#[utoipa::path(get, path = "/api/v1/profiles/{profile}/watchlist", params(("profile" = String, Path)), tag = "library",
    security(("bearer" = [])), responses((status = 200, body = TitlePage), (status = 404, body = ErrorBody)))]
pub(super) async fn watchlist(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(profile_id): Path<String>,
) -> Result<Json<TitlePage>, EdgeError> {
    let request = forward(&headers, pb::ListWatchlistRequest { profile_id });
    Ok(Json(api.upstream.library.clone().list_watchlist(request).await?.into_inner().into()))
}

/// Adds a title; adding it again changes nothing.
#[utoipa::path(put, path = "/api/v1/profiles/{profile}/watchlist/{title}", params(("profile" = String, Path), ("title" = String, Path)),
    tag = "library", security(("bearer" = [])), responses((status = 204), (status = 404, body = ErrorBody)))]
pub(super) async fn add_to_watchlist(
    State(api): State<Api>,
    headers: HeaderMap,
    Path((profile_id, title_id)): Path<(String, String)>,
) -> Result<StatusCode, EdgeError> {
    api.upstream
        .library
        .clone()
        .add_to_watchlist(forward(&headers, pb::WatchlistRequest { profile_id, title_id }))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a title.
#[utoipa::path(delete, path = "/api/v1/profiles/{profile}/watchlist/{title}", params(("profile" = String, Path), ("title" = String, Path)),
    tag = "library", security(("bearer" = [])), responses((status = 204), (status = 404, body = ErrorBody)))]
pub(super) async fn remove_from_watchlist(
    State(api): State<Api>,
    headers: HeaderMap,
    Path((profile_id, title_id)): Path<(String, String)>,
) -> Result<StatusCode, EdgeError> {
    api.upstream
        .library
        .clone()
        .remove_from_watchlist(forward(&headers, pb::WatchlistRequest { profile_id, title_id }))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where the player is; players report every few seconds.
#[utoipa::path(put, path = "/api/v1/profiles/{profile}/progress", params(("profile" = String, Path)), request_body = ProgressReport,
    tag = "library", security(("bearer" = [])), responses((status = 200, body = Progress), (status = 400, body = ErrorBody)))]
pub(super) async fn record_progress(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(profile_id): Path<String>,
    Json(body): Json<ProgressReport>,
) -> Result<Json<Progress>, EdgeError> {
    let message = pb::RecordProgressRequest {
        profile_id,
        title_id: body.title_id,
        episode_id: body.episode_id,
        position_secs: body.position_secs,
        duration_secs: body.duration_secs,
    };
    Ok(Json(api.upstream.library.clone().record_progress(forward(&headers, message)).await?.into_inner().into()))
}

/// What the profile watched, most recent first.
#[utoipa::path(get, path = "/api/v1/profiles/{profile}/history", params(("profile" = String, Path), PageQuery), tag = "library",
    security(("bearer" = [])), responses((status = 200, body = ProgressPage), (status = 404, body = ErrorBody)))]
pub(super) async fn history(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(profile_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<ProgressPage>, EdgeError> {
    let message = pb::ListHistoryRequest {
        profile_id,
        page_size: q.page_size.unwrap_or(0),
        page_token: q.page_token.unwrap_or_default(),
    };
    Ok(Json(api.upstream.library.clone().list_history(forward(&headers, message)).await?.into_inner().into()))
}

/// Started and unfinished, and the next episode of a series whose episode was finished.
#[utoipa::path(get, path = "/api/v1/profiles/{profile}/continue-watching", params(("profile" = String, Path)), tag = "library",
    security(("bearer" = [])), responses((status = 200, body = ProgressPage), (status = 404, body = ErrorBody)))]
pub(super) async fn continue_watching(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(profile_id): Path<String>,
) -> Result<Json<ProgressPage>, EdgeError> {
    let request = forward(&headers, pb::ContinueWatchingRequest { profile_id });
    Ok(Json(api.upstream.library.clone().continue_watching(request).await?.into_inner().into()))
}
