//! `/api/v1/assets/{id}`: an asset as editors see it (state, rungs, audio and subtitle
//! tracks, what was left out), and its subtitle and caption tracks added, replaced and
//! removed from a `.vtt` or `.srt` file sent as the request body.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use ottr_proto::media::v1 as pb;

use super::{Api, jobs::JobEvent};
use crate::{EdgeError, error::ErrorBody, upstream::forward};

/// Subtitle files are at most this large (media says the same); the route's body limit.
pub(super) const SUBTITLE_BODY_BYTES: usize = 2 * 1024 * 1024;

#[derive(Serialize, ToSchema)]
pub(super) struct Loudness {
    pub integrated_lufs: f64,
    pub true_peak_dbtp: Option<f64>,
    pub sample_peak_dbfs: Option<f64>,
    pub range_lu: f64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct AudioTrack {
    pub name: String,
    pub language: String,
    pub label: String,
    pub channels: u32,
    pub default: bool,
    pub measured: Option<Loudness>,
    pub result: Option<Loudness>,
    /// In storage, once encoded (0 until then).
    pub bytes: u64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct SubtitleTrack {
    pub id: String,
    pub language: String,
    pub label: String,
    /// subtitles or captions.
    pub kind: String,
    pub forced: bool,
    /// source or upload.
    pub origin: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Rendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// Nominal average; the rung's cap is 10% above it.
    pub video_bitrate_kbps: u32,
    /// In storage, once encoded (0 until then).
    pub bytes: u64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Asset {
    pub id: String,
    pub filename: String,
    /// processing, ready, failed or cancelled.
    pub state: String,
    pub job_id: String,
    pub duration_secs: f64,
    pub renditions: Vec<Rendition>,
    pub audio_tracks: Vec<AudioTrack>,
    pub subtitle_tracks: Vec<SubtitleTrack>,
    /// Streams of the source that were left out, and why.
    pub notes: Vec<String>,
    pub deinterlaced: bool,
    /// pq or hlg when an HDR source was tone-mapped to SDR; empty otherwise.
    pub tone_mapped_from: String,
    /// Every rung and audio rendition in storage, once ready.
    pub ladder_bytes: u64,
    /// The same per hour of content.
    pub bytes_per_hour: u64,
    pub error_code: String,
    pub error_message: String,
    /// The uploaded file's size.
    pub size_bytes: u64,
    /// The user id of who uploaded it; empty when unknown.
    pub created_by: String,
    /// Unix seconds; `ready_at` is 0 until ready.
    pub created_at: i64,
    pub ready_at: i64,
    /// Its job's latest progress: phase, percent, attempt, error.
    pub job: Option<JobEvent>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct AssetPage {
    pub assets: Vec<Asset>,
    /// Pass back as `page_token` for the next page; empty on the last.
    pub next_page_token: String,
}

#[derive(Deserialize, IntoParams)]
pub(super) struct AssetQuery {
    /// processing, ready, failed or cancelled; every state when left out.
    pub state: Option<String>,
    /// 1 to 100; 20 when left out.
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
}

impl From<pb::Loudness> for Loudness {
    fn from(l: pb::Loudness) -> Self {
        Self {
            integrated_lufs: l.integrated_lufs,
            true_peak_dbtp: l.true_peak_dbtp,
            sample_peak_dbfs: l.sample_peak_dbfs,
            range_lu: l.range_lu,
        }
    }
}

impl From<pb::Asset> for Asset {
    fn from(a: pb::Asset) -> Self {
        let state = pb::AssetState::try_from(a.state).unwrap_or_default();
        Self {
            id: a.id,
            filename: a.filename,
            state: state.as_str_name().trim_start_matches("ASSET_STATE_").to_lowercase(),
            job_id: a.job_id,
            duration_secs: a.source.as_ref().map_or(0.0, |s| s.duration_secs),
            size_bytes: a.source.as_ref().map_or(0, |s| s.size_bytes),
            created_by: a.created_by,
            created_at: a.created_at,
            ready_at: a.ready_at,
            job: a.job.map(Into::into),
            renditions: a
                .renditions
                .into_iter()
                .map(|r| Rendition {
                    name: r.name,
                    width: r.width,
                    height: r.height,
                    video_bitrate_kbps: r.video_bitrate_kbps,
                    bytes: r.bytes,
                })
                .collect(),
            audio_tracks: a
                .audio_tracks
                .into_iter()
                .map(|t| AudioTrack {
                    name: t.name,
                    language: t.language,
                    label: t.label,
                    channels: t.channels,
                    default: t.default,
                    measured: t.measured.map(Loudness::from),
                    result: t.result.map(Loudness::from),
                    bytes: t.bytes,
                })
                .collect(),
            subtitle_tracks: a
                .subtitle_tracks
                .into_iter()
                .map(|t| SubtitleTrack {
                    id: t.id,
                    language: t.language,
                    label: t.label,
                    kind: t.kind,
                    forced: t.forced,
                    origin: t.origin,
                })
                .collect(),
            notes: a.notes,
            deinterlaced: a.deinterlaced,
            tone_mapped_from: a.tone_mapped_from,
            ladder_bytes: a.ladder_bytes,
            bytes_per_hour: a.bytes_per_hour,
            error_code: a.error_code,
            error_message: a.error_message,
        }
    }
}

/// How an uploaded track is described; the file is the request body.
#[derive(Deserialize, IntoParams)]
pub(super) struct TrackQuery {
    /// Language tag (`en`, `fra`); required.
    pub language: String,
    /// What players show; the language's name when left out.
    pub label: Option<String>,
    /// subtitles (default) or captions.
    pub kind: Option<String>,
    #[serde(default)]
    pub forced: bool,
}

fn put_request(asset_id: String, track_id: String, query: TrackQuery, body: Bytes) -> pb::PutSubtitleRequest {
    pb::PutSubtitleRequest {
        asset_id,
        track_id,
        language: query.language,
        label: query.label.unwrap_or_default(),
        kind: query.kind.unwrap_or_default(),
        forced: query.forced,
        content: body.to_vec(),
    }
}

/// Every asset, newest first, optionally in one state: the studio's list.
#[utoipa::path(get, path = "/api/v1/assets", params(AssetQuery), tag = "assets", security(("bearer" = [])),
    responses((status = 200, body = AssetPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_assets(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(q): Query<AssetQuery>,
) -> Result<Json<AssetPage>, EdgeError> {
    let state = match q.state.as_deref().unwrap_or_default() {
        "" => pb::AssetState::Unspecified,
        name => pb::AssetState::from_str_name(&format!("ASSET_STATE_{}", name.to_uppercase()))
            .filter(|s| *s != pb::AssetState::Unspecified)
            .ok_or_else(|| EdgeError::InvalidArgument("state must be processing, ready, failed or cancelled".into()))?,
    };
    let request = pb::ListAssetsRequest {
        state: state as i32,
        page_size: q.page_size.unwrap_or(0),
        page_token: q.page_token.unwrap_or_default(),
    };
    let page = api.upstream.media.clone().list_assets(forward(&headers, request)).await?.into_inner();
    let assets = page.assets.into_iter().map(Into::into).collect();
    Ok(Json(AssetPage { assets, next_page_token: page.next_page_token }))
}

/// An asset, for editors.
#[utoipa::path(get, path = "/api/v1/assets/{id}", params(("id" = String, Path)), tag = "assets", security(("bearer" = [])),
    responses((status = 200, body = Asset), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_asset(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Asset>, EdgeError> {
    let asset = api.upstream.media.clone().get_asset(forward(&headers, pb::GetAssetRequest { id })).await?.into_inner();
    Ok(Json(asset.into()))
}

/// Adds a subtitle or caption track to a ready asset from a WebVTT or SubRip body.
#[utoipa::path(post, path = "/api/v1/assets/{id}/subtitles", params(("id" = String, Path), TrackQuery),
    request_body(content = String, content_type = "text/vtt", description = "a .vtt or .srt file, UTF-8"),
    tag = "assets", security(("bearer" = [])),
    responses((status = 201, body = Asset), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn add_subtitle(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<TrackQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<Asset>), EdgeError> {
    let request = put_request(id, String::new(), query, body);
    let asset = api.upstream.media.clone().put_subtitle(forward(&headers, request)).await?.into_inner();
    Ok((StatusCode::CREATED, Json(asset.into())))
}

/// Replaces a track's file and description; players that loaded the previous master keep it.
#[utoipa::path(put, path = "/api/v1/assets/{id}/subtitles/{track}", params(("id" = String, Path), ("track" = String, Path), TrackQuery),
    request_body(content = String, content_type = "text/vtt", description = "a .vtt or .srt file, UTF-8"),
    tag = "assets", security(("bearer" = [])),
    responses((status = 200, body = Asset), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn replace_subtitle(
    State(api): State<Api>,
    headers: HeaderMap,
    Path((id, track)): Path<(String, String)>,
    Query(query): Query<TrackQuery>,
    body: Bytes,
) -> Result<Json<Asset>, EdgeError> {
    let request = put_request(id, track, query, body);
    let asset = api.upstream.media.clone().put_subtitle(forward(&headers, request)).await?.into_inner();
    Ok(Json(asset.into()))
}

#[utoipa::path(delete, path = "/api/v1/assets/{id}/subtitles/{track}", params(("id" = String, Path), ("track" = String, Path)),
    tag = "assets", security(("bearer" = [])),
    responses((status = 200, body = Asset), (status = 404, body = ErrorBody)))]
pub(super) async fn remove_subtitle(
    State(api): State<Api>,
    headers: HeaderMap,
    Path((id, track)): Path<(String, String)>,
) -> Result<Json<Asset>, EdgeError> {
    let request = pb::RemoveSubtitleRequest { asset_id: id, track_id: track };
    let asset = api.upstream.media.clone().remove_subtitle(forward(&headers, request)).await?.into_inner();
    Ok(Json(asset.into()))
}
