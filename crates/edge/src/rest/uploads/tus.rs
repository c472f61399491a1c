//! tus 1.0 handlers: OPTIONS (what the server supports), POST (creation, `Upload-Length`
//! checked against the limit before any byte), HEAD (where to resume), PATCH (append at
//! `Upload-Offset`; the last one hands the file to media), DELETE (termination), and GET
//! (the upload's state as JSON, for the web app). Refusals are `EdgeError`s, which keep
//! tus's statuses (409, 415, 460) and headers.

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::{AppendHeaders, IntoResponse, Response},
};
use tonic::codegen::tokio_stream::StreamExt;

use super::{
    Info,
    caller::Uploader,
    hand_off::{finished, hand_off},
    spool::{Limit, spool},
};
use crate::{
    EdgeError,
    rest::Api,
    tus::{expected_checksum, filename, header_u64},
};

const EXTENSIONS: &str = "creation,termination,checksum,expiration";
const EXPIRES: HeaderName = HeaderName::from_static("upload-expires");

/// `Upload-Expires` as the tus expiration extension writes it (an RFC 9110 date).
fn expires(info: &Info) -> (HeaderName, String) {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(info.expires_at.max(0) as u64);
    (EXPIRES, httpdate::fmt_http_date(at))
}
const OFFSET: HeaderName = HeaderName::from_static("upload-offset");

/// What the server supports.
pub(super) async fn options(State(api): State<Api>) -> impl IntoResponse {
    (
        StatusCode::NO_CONTENT,
        [
            (HeaderName::from_static("tus-version"), HeaderValue::from_static(super::TUS_VERSION)),
            (HeaderName::from_static("tus-extension"), HeaderValue::from_static(EXTENSIONS)),
            (HeaderName::from_static("tus-max-size"), HeaderValue::from(api.uploads.max_bytes)),
            (HeaderName::from_static("tus-checksum-algorithm"), HeaderValue::from_static("sha1,sha256")),
        ],
    )
}

/// Creation: `Upload-Length` is required and checked against the limit before any byte.
pub(super) async fn create(
    State(api): State<Api>,
    uploader: Uploader,
    headers: HeaderMap,
) -> Result<Response, EdgeError> {
    let length = header_u64(&headers, "upload-length")
        .ok_or_else(|| EdgeError::InvalidArgument("Upload-Length is required".into()))?;
    if length > api.uploads.max_bytes {
        return Err(EdgeError::UploadTooLarge { limit: api.uploads.max_bytes });
    }
    let id = uuid::Uuid::new_v4().to_string();
    let info = Info {
        id: id.clone(),
        length,
        filename: filename(&headers),
        owner: uploader.owner(),
        asset_id: String::new(),
        job_id: String::new(),
        expires_at: api.uploads.expires_at(),
    };
    api.uploads.create(&info).await?;
    let location = format!("{}/api/v1/uploads/{id}", api.public_url);
    let answer = [(header::LOCATION, location), expires(&info)];
    Ok((StatusCode::CREATED, answer, [(OFFSET, HeaderValue::from(0u64))]).into_response())
}

/// Where to resume from.
pub(super) async fn head(
    State(api): State<Api>,
    uploader: Uploader,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, EdgeError> {
    let info = api.uploads.owned(&uploader.owner(), &id).await?;
    let offset = api.uploads.offset(&info).await?;
    Ok([
        (OFFSET, HeaderValue::from(offset)),
        (HeaderName::from_static("upload-length"), HeaderValue::from(info.length)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ])
}

/// The upload's state, for the web app.
pub(super) async fn status(
    State(api): State<Api>,
    uploader: Uploader,
    Path(id): Path<String>,
) -> Result<Json<Info>, EdgeError> {
    Ok(Json(api.uploads.owned(&uploader.owner(), &id).await?))
}

/// Termination.
pub(super) async fn delete(
    State(api): State<Api>,
    uploader: Uploader,
    Path(id): Path<String>,
) -> Result<StatusCode, EdgeError> {
    api.uploads.owned(&uploader.owner(), &id).await?;
    api.uploads.remove(&id, false).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Appends at `Upload-Offset`; the last PATCH hands the file to media.
pub(super) async fn patch(
    State(api): State<Api>,
    uploader: Uploader,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, EdgeError> {
    let mut info = api.uploads.owned(&uploader.owner(), &id).await?;
    if headers.get(header::CONTENT_TYPE).is_none_or(|v| v != "application/offset+octet-stream") {
        return Err(EdgeError::UnsupportedMediaType);
    }
    let _writing = api.uploads.lock(&id)?;
    let offset = api.uploads.offset(&info).await?;
    if header_u64(&headers, "upload-offset") != Some(offset) || !info.asset_id.is_empty() {
        return Err(EdgeError::UploadOffsetMismatch { offset });
    }
    let checksum = expected_checksum(&headers)?;
    let mut file = api.uploads.append(&id).await?;
    let chunks = body.into_data_stream().map(|chunk| chunk.map_err(EdgeError::BodyUnreadable));
    let limit = Limit { bytes: info.length, exceeded: |_| EdgeError::UploadLongerThanDeclared };
    let received = spool(&mut file, chunks, offset, limit, checksum).await?;
    drop(file);
    if received == info.length {
        let asset = match hand_off(&api, &headers, &info).await {
            Ok(asset) => asset,
            Err(error) => {
                // Refused (media's 422) or failed: nothing resumes a complete upload, so
                // neither its bytes nor its info stay behind.
                api.uploads.remove(&id, false).await;
                return Err(error);
            }
        };
        finished(&mut info, asset);
        api.uploads.save(&info).await?;
        // Media has its copy now; the spool file is no longer needed.
        api.uploads.remove(&id, true).await;
    }
    let mut answer = vec![(OFFSET, received.to_string())];
    if info.asset_id.is_empty() {
        answer.push(expires(&info));
    }
    if !info.asset_id.is_empty() {
        answer.push((HeaderName::from_static("ottr-asset-id"), info.asset_id));
        answer.push((HeaderName::from_static("ottr-job-id"), info.job_id));
    }
    Ok((StatusCode::NO_CONTENT, AppendHeaders(answer)).into_response())
}
