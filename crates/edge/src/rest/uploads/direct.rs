//! Direct uploads: an editor asks for a one-time URL (`POST /api/v1/uploads/direct`) that
//! a browser or a partner's server uses without the editor's token. The URL is a tus
//! creation endpoint; the upload it creates has a URL of its own carrying a key (`?key=`)
//! that stands in for a token on its HEADs and PATCHes. Media keeps only hashes.

use axum::{
    Json,
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use ottr_proto::media::v1::CreateDirectUploadRequest;

use super::tus;
use crate::{EdgeError, error::ErrorBody, rest::Api, upstream::forward};

/// What a direct upload may be.
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub(crate) struct GrantRequest {
    /// At most this many bytes (the configured limit when 0 or absent).
    pub max_bytes: u64,
    /// How long the URL works (the configured default when 0 or absent).
    pub expires_in_secs: u32,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Grant {
    /// A tus creation endpoint: `POST` here with `Upload-Length` (no token needed), once.
    pub upload_url: String,
    pub max_bytes: u64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A one-time upload URL, for editors and admins.
#[utoipa::path(post, path = "/api/v1/uploads/direct", request_body = GrantRequest,
    responses((status = 200, body = Grant)), security(("bearer" = [])))]
pub(crate) async fn grant(
    State(api): State<Api>,
    headers: HeaderMap,
    request: Option<Json<GrantRequest>>,
) -> Result<Json<Grant>, EdgeError> {
    let Json(request) = request.unwrap_or_default();
    let message = CreateDirectUploadRequest { max_bytes: request.max_bytes, expires_in_secs: request.expires_in_secs };
    let grant = api.upstream.media.clone().create_direct_upload(forward(&headers, message)).await?.into_inner();
    Ok(Json(Grant {
        upload_url: format!("{}/api/v1/uploads/direct/{}", api.public_url, grant.token),
        max_bytes: grant.max_bytes,
        expires_at: grant.expires_at,
    }))
}

/// tus creation through a direct upload URL: no token, the URL's own token instead. Once,
/// within the grant's `max_bytes`; the upload's URL (`Location`) carries its own `?key=`.
#[utoipa::path(post, path = "/api/v1/uploads/direct/{token}", tag = "uploads",
    params(
        ("token" = String, Path, description = "from the grant's `upload_url`"),
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Length" = u64, Header, description = "the file's size in bytes"),
    ),
    responses(
        (status = 201, description = "`Location`: the upload's URL with its key"),
        (status = 400, body = ErrorBody, description = "no Upload-Length"),
        (status = 403, body = ErrorBody, description = "direct_upload_invalid: unknown, expired or used"),
        (status = 409, body = ErrorBody, description = "upload_quota_exceeded: the editor's unfinished uploads"),
        (status = 413, body = ErrorBody, description = "over the grant's cap; the URL is not used up"),
        (status = 422, body = ErrorBody, description = "zero_duration: an empty upload"),
    ))]
pub(crate) async fn create(
    State(api): State<Api>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, EdgeError> {
    tus::create_upload(&api, &headers, token).await
}
