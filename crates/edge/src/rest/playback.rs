//! `/api/v1/titles/{id}/playback` and `/api/v1/episodes/{id}/playback`: signed HLS URLs
//! for what the caller may see (the rules live in `crate::playback`).

use axum::{
    Json,
    extract::{Path, Query, State},
    http::HeaderMap,
};
use serde::Serialize;
use utoipa::ToSchema;

use ottr_proto::playback::v1 as pb;

use super::{
    Api,
    catalog::{Episode, ProfileQuery, Title},
};
use crate::{EdgeError, error::ErrorBody};

#[derive(Serialize, ToSchema)]
pub(super) struct Playback {
    /// The master playlist; the token in its path covers every playlist and segment below it.
    pub url: String,
    pub poster_url: String,
    /// WebVTT cues pointing into the sprite sheet beside them.
    pub storyboard_url: String,
    /// Unix seconds after which the URLs stop working.
    pub expires_at: i64,
    /// False while the ladder is still growing (playable, not finished).
    pub ready: bool,
    pub duration_secs: f64,
    /// The movie, or the episode's series.
    pub title: Option<Title>,
    /// Set when an episode plays.
    pub episode: Option<Episode>,
    /// The episode after this one, when there is one: what to offer at the end.
    pub next_episode: Option<Episode>,
    /// A signed progressive MP4 (Range requests welcome) when the title offers downloads
    /// and the asset has one; empty otherwise.
    pub download_url: String,
    pub download_bytes: u64,
}

impl From<pb::Playback> for Playback {
    fn from(p: pb::Playback) -> Self {
        Self {
            url: p.url,
            poster_url: p.poster_url,
            storyboard_url: p.storyboard_url,
            expires_at: p.expires_at,
            ready: p.ready,
            duration_secs: p.duration_secs,
            title: p.title.map(Into::into),
            episode: p.episode.map(Into::into),
            next_episode: p.next_episode.map(Into::into),
            download_url: p.download_url,
            download_bytes: p.download_bytes,
        }
    }
}

/// Plays a movie: signed URLs for its asset.
#[utoipa::path(get, path = "/api/v1/titles/{id}/playback", params(("id" = String, Path, description = "id or slug"), ProfileQuery),
    tag = "playback", security(("bearer" = [])),
    responses((status = 200, body = Playback), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn title(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ProfileQuery>,
) -> Result<Json<Playback>, EdgeError> {
    Ok(Json(api.player.title(&headers, id, q.profile.unwrap_or_default()).await?.into()))
}

/// Plays an episode, under its series' visibility; names the episode that follows.
#[utoipa::path(get, path = "/api/v1/episodes/{id}/playback", params(("id" = String, Path, description = "the episode's id"), ProfileQuery),
    tag = "playback", security(("bearer" = [])),
    responses((status = 200, body = Playback), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn episode(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ProfileQuery>,
) -> Result<Json<Playback>, EdgeError> {
    Ok(Json(api.player.episode(&headers, id, q.profile.unwrap_or_default()).await?.into()))
}
