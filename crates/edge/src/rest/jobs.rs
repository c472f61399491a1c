//! `/api/v1/jobs/{id}/events`: a transcode's progress as Server-Sent Events, relaying
//! media's WatchJob stream. Browsers' EventSource cannot send headers, so the access
//! token may also come as `?access_token=`.

use std::convert::Infallible;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::HeaderMap,
    response::sse::{Event, KeepAlive, Sse},
};
use serde::{Deserialize, Serialize};
use tonic::codegen::tokio_stream::{self, Stream, StreamExt};
use utoipa::{IntoParams, ToSchema};

use ottr_proto::media::v1 as pb;
use ottr_runtime::token::{self, TokenError};

use super::Api;
use crate::{EdgeError, error::ErrorBody, upstream::forward};

#[derive(Deserialize, IntoParams)]
pub(super) struct TokenQuery {
    /// For EventSource, which cannot set `Authorization`.
    pub access_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RenditionProgress {
    pub name: String,
    pub state: String,
    pub segments_stored: u32,
}

/// One `progress` event.
#[derive(Serialize, ToSchema)]
pub(crate) struct JobEvent {
    pub job_id: String,
    pub asset_id: String,
    /// queued, probing, transcoding, uploading, finalizing, ready, failed, cancelled.
    pub phase: String,
    pub percent: f64,
    pub fps: f64,
    pub speed: f64,
    pub eta_secs: f64,
    pub renditions: Vec<RenditionProgress>,
    pub attempt: u32,
    pub error_code: String,
    pub error_message: String,
    pub playable: bool,
    pub sequence: u64,
}

impl From<pb::JobEvent> for JobEvent {
    fn from(e: pb::JobEvent) -> Self {
        let phase =
            pb::Phase::try_from(e.phase).unwrap_or_default().as_str_name().trim_start_matches("PHASE_").to_lowercase();
        Self {
            job_id: e.job_id,
            asset_id: e.asset_id,
            phase,
            percent: e.percent,
            fps: e.fps,
            speed: e.speed,
            eta_secs: e.eta_secs,
            renditions: e
                .renditions
                .into_iter()
                .map(|r| RenditionProgress { name: r.name, state: r.state, segments_stored: r.segments_stored })
                .collect(),
            attempt: e.attempt,
            error_code: e.error_code,
            error_message: e.error_message,
            playable: e.playable,
            sequence: e.sequence,
        }
    }
}

/// Puts a failed or cancelled job back in the queue with a fresh budget of attempts.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/requeue", params(("id" = String, Path)), tag = "media",
    security(("bearer" = [])),
    responses((status = 200, body = JobEvent), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn requeue(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(job_id): Path<String>,
) -> Result<Json<JobEvent>, EdgeError> {
    let event = api.upstream.media.clone().requeue_job(forward(&headers, pb::JobRequest { job_id })).await?;
    Ok(Json(event.into_inner().into()))
}

/// Stops a queued or running job; what it wrote so far is removed.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", params(("id" = String, Path)), tag = "media",
    security(("bearer" = [])),
    responses((status = 200, body = JobEvent), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn cancel(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(job_id): Path<String>,
) -> Result<Json<JobEvent>, EdgeError> {
    let event = api.upstream.media.clone().cancel_job(forward(&headers, pb::JobRequest { job_id })).await?;
    Ok(Json(event.into_inner().into()))
}

/// The job's progress: the current state first, then every change until it ends.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/events", params(("id" = String, Path), TokenQuery), tag = "media",
    security(("bearer" = [])),
    responses((status = 200, description = "text/event-stream of `progress` events (JobEvent)", body = JobEvent),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn events(
    State(api): State<Api>,
    mut headers: HeaderMap,
    Path(job_id): Path<String>,
    Query(query): Query<TokenQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, EdgeError> {
    if let Some(token) = query.access_token {
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| EdgeError::Token(TokenError::Invalid("not a header value")))?;
        headers.insert(axum::http::header::AUTHORIZATION, value);
    }
    let stream =
        api.upstream.media.clone().watch_job(forward(&headers, pb::WatchJobRequest { job_id })).await?.into_inner();
    // The slot travels with the stream and is given back when it ends or the client goes.
    let user = match token::bearer(&headers) {
        Some(Ok(bearer)) => api.verifier.verify(&bearer).await?.user_id.to_string(),
        _ => String::new(),
    };
    let slot = api.streams.acquire(&user)?;
    let events = stream.map(move |item| {
        let _held = &slot;
        Some(Ok(match item {
            Ok(event) => Event::default().event("progress").json_data(JobEvent::from(event)).unwrap_or_default(),
            Err(status) => {
                Event::default().event("error").json_data(EdgeError::from(status).to_body().1).unwrap_or_default()
            }
        }))
    });
    // A stopping edge ends the stream, so the browser's EventSource reconnects to another
    // edge instead of the stop waiting out its drain limit.
    let stopping = api.stopping.clone();
    let stop = tokio_stream::iter([()]).then(move |()| {
        let stopping = stopping.clone();
        async move {
            stopping.cancelled().await;
            None
        }
    });
    Ok(Sse::new(events.merge(stop).map_while(|event| event)).keep_alive(KeepAlive::default()))
}
