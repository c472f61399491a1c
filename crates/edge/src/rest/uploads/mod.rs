//! Uploads under `/api/v1/uploads`: resumable (tus 1.0: core, creation, termination,
//! checksum) and plain multipart. Bytes go to a spool file as they arrive, never held whole
//! in memory, through one chunk loop ([`spool`]); a finished file is streamed to media's
//! Upload RPC ([`hand_off`]), which stores, probes and queues it, and the answer names the
//! asset and job whose progress `/api/v1/jobs/{id}/events` streams. The caller's token is
//! verified here, locally, like every service does ([`caller`]).

mod caller;
mod hand_off;
mod multipart;
mod spool;
mod store;
mod tus;

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    http::HeaderValue,
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub(crate) use store::Uploads;
pub use store::sweep;

use super::Api;

/// The tus protocol version spoken here.
const TUS_VERSION: &str = "1.0.0";

/// What is known of an upload, beside its bytes.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub(crate) struct Info {
    pub id: String,
    pub length: u64,
    pub filename: String,
    /// The account that created it; nobody else may touch it.
    pub owner: String,
    /// Set when the upload is complete and handed to media.
    pub asset_id: String,
    pub job_id: String,
    /// Unix seconds after which the upload is gone, finished or not (0: never, files
    /// written before expiry existed).
    #[serde(default)]
    pub expires_at: i64,
}

/// tus wants `Tus-Resumable` on every answer, refusals included; one layer adds it, so no
/// handler or error path can forget it.
async fn tus_resumable(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    response
}

pub(crate) fn router() -> Router<Api> {
    let tus = Router::new()
        .route("/api/v1/uploads", post(tus::create).options(tus::options))
        .route(
            "/api/v1/uploads/{id}",
            get(tus::status).head(tus::head).patch(tus::patch).delete(tus::delete).options(tus::options),
        )
        .layer(middleware::from_fn(tus_resumable));
    // The handler enforces `max_upload_bytes` itself while it spools to disk.
    let multipart =
        Router::new().route("/api/v1/uploads/file", post(multipart::multipart).layer(DefaultBodyLimit::disable()));
    tus.merge(multipart)
}
