//! Uploads under `/api/v1/uploads`: resumable (tus 1.0: core, creation, termination,
//! checksum, expiration), plain multipart, and direct uploads (a one-time URL an editor
//! hands to a browser or a partner's server). The edge keeps nothing of an upload: tus
//! requests become media's upload RPCs ([`tus`]), and a PATCH body's whole parts go from
//! the edge straight into the object store by URLs media presigns ([`to_store`]), the rest
//! streamed on to media as it arrives ([`relay`]), which writes it into the same multipart
//! upload; the upload's state is in PostgreSQL. So any edge answers
//! for any upload, and a restarted edge loses none. Callers' tokens are checked by media,
//! like every service does; a direct upload's client presents the key its creation
//! answered (`?key=` on the upload's URL) instead.

pub(crate) mod direct;
pub(crate) mod multipart;
mod relay;
mod to_store;
pub(crate) mod tus;

pub(crate) use to_store::PartsToStore;

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

use ottr_proto::media::v1::UploadSession;

use super::Api;

/// The tus protocol version spoken here.
const TUS_VERSION: &str = "1.0.0";

/// What is known of an upload (`GET /api/v1/uploads/{id}`, and the multipart answer).
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub(crate) struct Info {
    pub id: String,
    pub length: u64,
    /// Bytes stored so far.
    pub offset: u64,
    pub filename: String,
    /// Set when the upload is complete: the source is stored, probed and queued.
    pub asset_id: String,
    pub job_id: String,
    /// Unix seconds after which an unfinished upload is gone.
    pub expires_at: i64,
}

impl From<UploadSession> for Info {
    fn from(session: UploadSession) -> Self {
        Self {
            id: session.id,
            length: session.length,
            offset: session.offset,
            filename: session.filename,
            asset_id: session.asset_id,
            job_id: session.job_id,
            expires_at: session.expires_at,
        }
    }
}

/// `?key=`: a direct upload's client names itself with the key its creation answered.
#[derive(Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Key {
    /// A direct upload's key, instead of a token.
    #[serde(default)]
    #[param(required = false)]
    pub key: String,
}

/// tus wants `Tus-Resumable` on every answer, refusals included; one layer adds it, so no
/// handler or error path can forget it.
async fn tus_resumable(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    response
}

/// Direct upload grants are small JSON bodies.
const GRANT_BODY_BYTES: usize = 4 * 1024;

pub(crate) fn router() -> Router<Api> {
    let tus = Router::new()
        .route("/api/v1/uploads", post(tus::create).options(tus::options))
        .route("/api/v1/uploads/direct/{token}", post(direct::create).options(tus::options_direct))
        .route(
            "/api/v1/uploads/{id}",
            get(tus::status).head(tus::head).patch(tus::patch).delete(tus::delete).options(tus::options_upload),
        )
        .layer(middleware::from_fn(tus_resumable));
    let grants = Router::new()
        .route("/api/v1/uploads/direct", post(direct::grant).layer(DefaultBodyLimit::max(GRANT_BODY_BYTES)));
    // Media enforces the upload limit itself while it stores.
    let multipart =
        Router::new().route("/api/v1/uploads/file", post(multipart::multipart).layer(DefaultBodyLimit::disable()));
    tus.merge(grants).merge(multipart)
}
