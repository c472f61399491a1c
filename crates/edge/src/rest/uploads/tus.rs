//! tus 1.0 handlers, each a translation to media's upload RPCs: OPTIONS (what the server
//! supports), POST (creation: `Upload-Length` checked against the limit and the quota
//! before any byte), HEAD (where to resume), PATCH (append at `Upload-Offset`; the body's
//! whole parts go straight to the store ([`to_store`]) and the rest streams on to media as
//! it arrives, and the last one answers with the asset and job),
//! DELETE (termination), and GET (the upload's state as JSON, for the web app). Refusals
//! are `EdgeError`s, which keep tus's statuses (409, 410, 415, 460) and headers.

use axum::{
    Json,
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::{AppendHeaders, IntoResponse, Response},
};
use tonic::codegen::tokio_stream::{self, StreamExt};

use ottr_proto::media::v1::{
    AppendHeader, AppendUploadRequest, CreateUploadRequest, UploadRef, UploadSession, append_upload_request::Part,
};
use ottr_runtime::ErrorCode;

use super::{Info, Key, relay, to_store};
use crate::{
    EdgeError,
    error::ErrorBody,
    rest::Api,
    tus::{expected_checksum, filename, header_u64},
    upstream::forward,
};

const EXTENSIONS: &str = "creation,termination,checksum,expiration";
const EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
const OFFSET: HeaderName = HeaderName::from_static("upload-offset");

/// `Upload-Expires` as the tus expiration extension writes it (an RFC 9110 date).
fn expires(session: &UploadSession) -> (HeaderName, String) {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(session.expires_at.max(0) as u64);
    (EXPIRES, httpdate::fmt_http_date(at))
}

/// A finished upload names its asset and job (on HEAD too, for a client whose last answer
/// was lost); an unfinished one says when it expires.
fn finished_or_expires(answer: &mut Vec<(HeaderName, String)>, session: UploadSession) {
    if session.asset_id.is_empty() {
        answer.push(expires(&session));
    } else {
        answer.push((HeaderName::from_static("ottr-asset-id"), session.asset_id));
        answer.push((HeaderName::from_static("ottr-job-id"), session.job_id));
    }
}

/// Upload ids are media's UUIDs: anything else names no upload.
fn upload_id(id: &str) -> Result<(), EdgeError> {
    uuid::Uuid::parse_str(id).map(|_| ()).map_err(|_| EdgeError::NotFound("no such upload"))
}

/// What the server supports.
#[utoipa::path(options, path = "/api/v1/uploads", tag = "uploads",
    responses((status = 204, description = "`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`, `Tus-Checksum-Algorithm`")))]
pub(crate) async fn options(State(api): State<Api>) -> impl IntoResponse {
    (
        StatusCode::NO_CONTENT,
        [
            (HeaderName::from_static("tus-version"), HeaderValue::from_static(super::TUS_VERSION)),
            (HeaderName::from_static("tus-extension"), HeaderValue::from_static(EXTENSIONS)),
            (HeaderName::from_static("tus-max-size"), HeaderValue::from(api.max_upload_bytes)),
            (HeaderName::from_static("tus-checksum-algorithm"), HeaderValue::from_static("sha1,sha256")),
        ],
    )
}

/// What the server supports, asked of an upload's URL (tus clients ask where they are).
#[utoipa::path(options, path = "/api/v1/uploads/{id}", tag = "uploads", params(("id" = String, Path)),
    responses((status = 204, description = "as `OPTIONS /api/v1/uploads`")))]
pub(crate) async fn options_upload(api: State<Api>) -> impl IntoResponse {
    options(api).await
}

/// What the server supports, asked of a direct upload's creation URL.
#[utoipa::path(options, path = "/api/v1/uploads/direct/{token}", tag = "uploads", params(("token" = String, Path)),
    responses((status = 204, description = "as `OPTIONS /api/v1/uploads`")))]
pub(crate) async fn options_direct(api: State<Api>) -> impl IntoResponse {
    options(api).await
}

/// A PATCH body in the OpenAPI document: the file's next bytes as a binary string (they are
/// streamed on as they arrive, never held as a whole).
pub(crate) struct Chunk;

impl utoipa::PartialSchema for Chunk {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{KnownFormat, ObjectBuilder, SchemaFormat, schema::Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for Chunk {}

/// Creation with the caller's token (tus creation): `Location` is the upload's URL.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "uploads", security(("bearer" = [])),
    params(
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Length" = u64, Header, description = "the file's size in bytes"),
        ("Upload-Metadata" = Option<String>, Header, description = "tus metadata; `filename` (base64) names the file"),
    ),
    responses(
        (status = 201, description = "`Location`: the upload's URL; `Upload-Expires`: when an unfinished upload goes"),
        (status = 400, body = ErrorBody, description = "no Upload-Length"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "upload_quota_exceeded"),
        (status = 413, body = ErrorBody, description = "upload_too_large"),
        (status = 422, body = ErrorBody, description = "zero_duration: an empty upload"),
    ))]
pub(crate) async fn create(State(api): State<Api>, headers: HeaderMap) -> Result<Response, EdgeError> {
    create_upload(&api, &headers, String::new()).await
}

/// Creation, with the caller's token or (`direct_token`) a direct upload's. The upload's
/// URL carries the key a direct upload's client presents from then on.
pub(super) async fn create_upload(api: &Api, headers: &HeaderMap, direct_token: String) -> Result<Response, EdgeError> {
    let length = header_u64(headers, "upload-length")
        .ok_or_else(|| EdgeError::InvalidArgument("Upload-Length is required".into()))?;
    if length > api.max_upload_bytes {
        return Err(EdgeError::UploadTooLarge { limit: api.max_upload_bytes });
    }
    let request = CreateUploadRequest { length, filename: filename(headers), direct_token };
    let session = api.upstream.media.clone().create_upload(forward(headers, request)).await?.into_inner();
    let mut location = format!("{}/api/v1/uploads/{}", api.public_url, session.id);
    if !session.key.is_empty() {
        location.push_str(&format!("?key={}", session.key));
    }
    let answer = [(header::LOCATION, location), expires(&session)];
    Ok((StatusCode::CREATED, answer, [(OFFSET, HeaderValue::from(0u64))]).into_response())
}

async fn session(api: &Api, headers: &HeaderMap, id: String, key: String) -> Result<UploadSession, EdgeError> {
    upload_id(&id)?;
    Ok(api.upstream.media.clone().get_upload(forward(headers, UploadRef { id, key })).await?.into_inner())
}

/// Where to resume from (tus core).
#[utoipa::path(head, path = "/api/v1/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path), Key),
    responses(
        (status = 200, description = "`Upload-Offset`, `Upload-Length`; `Upload-Expires` while unfinished"),
        (status = 404, description = "no such upload"), (status = 410, description = "expired"),
    ))]
pub(crate) async fn head(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(Key { key }): Query<Key>,
) -> Result<Response, EdgeError> {
    let session = session(&api, &headers, id, key).await?;
    let mut answer = vec![
        (OFFSET, session.offset.to_string()),
        (HeaderName::from_static("upload-length"), session.length.to_string()),
        (header::CACHE_CONTROL, "no-store".to_owned()),
    ];
    finished_or_expires(&mut answer, session);
    Ok((StatusCode::OK, AppendHeaders(answer)).into_response())
}

/// The upload's state, for the web app: once complete, its asset and job.
#[utoipa::path(get, path = "/api/v1/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path), Key),
    responses((status = 200, body = Info), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub(crate) async fn status(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(Key { key }): Query<Key>,
) -> Result<Json<Info>, EdgeError> {
    Ok(Json(session(&api, &headers, id, key).await?.into()))
}

/// Termination (tus termination): the stored parts go.
#[utoipa::path(delete, path = "/api/v1/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path), Key),
    responses(
        (status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "upload_busy: a PATCH is still writing"),
        (status = 410, body = ErrorBody, description = "upload_expired"),
    ))]
pub(crate) async fn delete(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(Key { key }): Query<Key>,
) -> Result<StatusCode, EdgeError> {
    upload_id(&id)?;
    api.upstream.media.clone().delete_upload(forward(&headers, UploadRef { id, key })).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Appends at `Upload-Offset`, streaming the body on to media; the last PATCH answers
/// with the asset and job.
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(
        ("id" = String, Path), Key,
        ("Upload-Offset" = u64, Header, description = "where these bytes go: the upload's current offset"),
        ("Upload-Checksum" = Option<String>, Header, description = "`sha1` or `sha256` and the base64 digest of this body"),
    ),
    request_body(content = Chunk, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "`Upload-Offset`: the new offset; the last PATCH also names `Ottr-Asset-Id` and `Ottr-Job-Id`"),
        (status = 400, body = ErrorBody, description = "no Upload-Offset"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such upload"),
        (status = 409, body = ErrorBody, description = "upload_offset_mismatch (with the current `Upload-Offset`) or upload_busy"),
        (status = 410, body = ErrorBody, description = "upload_expired"),
        (status = 413, body = ErrorBody, description = "past the Upload-Length declared"),
        (status = 415, body = ErrorBody, description = "unsupported_media_type"),
        (status = 460, body = ErrorBody, description = "checksum_mismatch: nothing of this body was kept"),
    ))]
pub(crate) async fn patch(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(Key { key }): Query<Key>,
    body: Body,
) -> Result<Response, EdgeError> {
    if headers.get(header::CONTENT_TYPE).is_none_or(|v| v != "application/offset+octet-stream") {
        return Err(EdgeError::UnsupportedMediaType);
    }
    upload_id(&id)?;
    let offset = header_u64(&headers, "upload-offset")
        .ok_or_else(|| EdgeError::InvalidArgument("Upload-Offset is required".into()))?;
    let (checksum_algorithm, checksum) = expected_checksum(&headers)?.unwrap_or_default();
    let length = header_u64(&headers, "content-length");
    let appended = match (&api.parts_to_store, length) {
        // Whole parts straight to the store; a checksum is checked by media, over bytes it sees.
        (Some(to_store), Some(length)) if checksum.is_empty() => {
            let patch = to_store::Patch { headers: &headers, id: id.clone(), key: key.clone(), offset, length };
            to_store::append(&api, to_store, patch, body).await
        }
        _ => {
            let header = AppendHeader {
                upload_id: id.clone(),
                key: key.clone(),
                offset,
                checksum_algorithm,
                checksum,
                length,
                ..Default::default()
            };
            let first = AppendUploadRequest { part: Some(Part::Header(header)) };
            let chunks = relay::messages(body).map(|chunk| AppendUploadRequest { part: Some(Part::Chunk(chunk)) });
            let messages = tokio_stream::iter([first]).chain(chunks);
            api.upstream
                .media
                .clone()
                .append_upload(forward(&headers, messages))
                .await
                .map(|answer| answer.into_inner())
        }
    };
    let session = match appended {
        Ok(session) => session,
        Err(status) if ErrorCode::of(&status) == Some(ErrorCode::UploadOffsetMismatch) => {
            // tus says where the upload stands on a conflict.
            let offset = session(&api, &headers, id, key).await?.offset;
            return Err(EdgeError::UploadOffsetMismatch { offset });
        }
        Err(status) => return Err(status.into()),
    };
    let mut answer = vec![(OFFSET, session.offset.to_string())];
    finished_or_expires(&mut answer, session);
    Ok((StatusCode::NO_CONTENT, AppendHeaders(answer)).into_response())
}
