//! Resumable upload, tus 1.0 (core, creation, termination, checksum) under
//! `/api/v1/uploads`. Bytes are appended to a file as they arrive, never held whole in
//! memory; a PATCH at the wrong offset, or whose checksum does not match, is refused and
//! leaves what was received before untouched. When the last byte lands, the file is
//! streamed to media's Upload RPC, which stores, probes and queues it; the response
//! names the asset and job, whose progress `/api/v1/jobs/{id}/events` streams.

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderName, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tonic::codegen::tokio_stream::StreamExt;
use utoipa::ToSchema;

use ottr_proto::{auth::v1 as auth_pb, media::v1 as media_pb};
use ottr_runtime::ErrorCode;

use super::Api;
use crate::{
    EdgeError,
    tus::{expected_checksum, filename, header_u64},
    upstream::forward,
};

const TUS_VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,termination,checksum";

/// Uploads in progress, and which of them a PATCH is writing right now.
pub struct Uploads {
    pub dir: PathBuf,
    pub max_bytes: u64,
    writing: Mutex<HashSet<String>>,
}

impl Uploads {
    pub fn new(dir: PathBuf, max_bytes: u64) -> Arc<Self> {
        Arc::new(Self { dir, max_bytes, writing: Mutex::default() })
    }

    fn data(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.bin"))
    }

    fn info_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    async fn info(&self, id: &str) -> Option<Info> {
        uuid::Uuid::parse_str(id).ok()?; // ids are ours; anything else names no file
        serde_json::from_slice(&tokio::fs::read(self.info_path(id)).await.ok()?).ok()
    }

    async fn save(&self, id: &str, info: &Info) -> std::io::Result<()> {
        tokio::fs::write(self.info_path(id), serde_json::to_vec(info).expect("info serializes")).await
    }
}

/// What is known of an upload, beside its bytes.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Info {
    pub id: String,
    pub length: u64,
    pub filename: String,
    /// The account that created it; nobody else may touch it.
    pub owner: String,
    /// Set when the upload is complete and handed to media.
    pub asset_id: String,
    pub job_id: String,
}

fn tus(response: axum::http::response::Builder) -> axum::http::response::Builder {
    response.header("Tus-Resumable", TUS_VERSION)
}

fn coded(code: ErrorCode, message: &str) -> EdgeError {
    EdgeError::Coded(code, message.to_owned())
}

/// The caller, who must be an editor or admin.
async fn uploader(api: &Api, headers: &HeaderMap) -> Result<String, EdgeError> {
    let me = api.upstream.auth.clone().me(forward(headers, auth_pb::MeRequest {})).await?.into_inner();
    let staff = me.roles.iter().any(|r| *r == auth_pb::Role::Editor as i32 || *r == auth_pb::Role::Admin as i32);
    if !staff {
        return Err(coded(ErrorCode::PermissionDenied, "only editors and admins upload"));
    }
    Ok(me.id)
}

/// The upload, if it exists and belongs to the caller.
async fn owned(api: &Api, headers: &HeaderMap, id: &str) -> Result<Info, EdgeError> {
    let owner = uploader(api, headers).await?;
    api.uploads
        .info(id)
        .await
        .filter(|info| info.owner == owner)
        .ok_or_else(|| coded(ErrorCode::NotFound, "no such upload"))
}

/// What the server supports.
pub async fn options(State(api): State<Api>) -> Response {
    tus(Response::builder())
        .status(StatusCode::NO_CONTENT)
        .header("Tus-Version", TUS_VERSION)
        .header("Tus-Extension", EXTENSIONS)
        .header("Tus-Max-Size", api.uploads.max_bytes)
        .header("Tus-Checksum-Algorithm", "sha1,sha256")
        .body(Body::empty())
        .expect("valid response")
}

/// Creation: `Upload-Length` is required and checked against the limit before any byte.
pub async fn create(State(api): State<Api>, headers: HeaderMap) -> Result<Response, EdgeError> {
    let owner = uploader(&api, &headers).await?;
    let length = header_u64(&headers, "upload-length")
        .ok_or_else(|| EdgeError::BadRequest("Upload-Length is required".into()))?;
    if length > api.uploads.max_bytes {
        return Err(coded(ErrorCode::UploadTooLarge, &format!("at most {} bytes are accepted", api.uploads.max_bytes)));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let info = Info {
        id: id.clone(),
        length,
        filename: filename(&headers),
        owner,
        asset_id: String::new(),
        job_id: String::new(),
    };
    tokio::fs::create_dir_all(&api.uploads.dir).await.map_err(internal)?;
    tokio::fs::File::create(api.uploads.data(&id)).await.map_err(internal)?;
    api.uploads.save(&id, &info).await.map_err(internal)?;
    Ok(tus(Response::builder())
        .status(StatusCode::CREATED)
        .header(header::LOCATION, format!("{}/api/v1/uploads/{id}", api.public_url))
        .header("Upload-Offset", 0)
        .body(Body::empty())
        .expect("valid response"))
}

/// Bytes received so far; all of them once the upload was handed to media.
async fn offset(api: &Api, info: &Info) -> Result<u64, EdgeError> {
    if !info.asset_id.is_empty() {
        return Ok(info.length);
    }
    Ok(tokio::fs::metadata(api.uploads.data(&info.id)).await.map_err(internal)?.len())
}

/// Where to resume from.
pub async fn head(State(api): State<Api>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, EdgeError> {
    let info = owned(&api, &headers, &id).await?;
    let offset = offset(&api, &info).await?;
    Ok(tus(Response::builder())
        .header("Upload-Offset", offset)
        .header("Upload-Length", info.length)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .expect("valid response"))
}

/// The upload's state, for the web app.
pub async fn status(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Info>, EdgeError> {
    Ok(Json(owned(&api, &headers, &id).await?))
}

/// Termination.
pub async fn delete(State(api): State<Api>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, EdgeError> {
    owned(&api, &headers, &id).await?;
    let _ = tokio::fs::remove_file(api.uploads.data(&id)).await;
    let _ = tokio::fs::remove_file(api.uploads.info_path(&id)).await;
    Ok(tus(Response::builder()).status(StatusCode::NO_CONTENT).body(Body::empty()).expect("valid response"))
}

/// Marks an upload as being written; a second PATCH at the same time is refused.
struct Writing<'a>(&'a Uploads, String);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.writing.lock().expect("lock").remove(&self.1);
    }
}

/// Appends at `Upload-Offset`; the last PATCH hands the file to media.
pub async fn patch(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, EdgeError> {
    let mut info = owned(&api, &headers, &id).await?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if content_type != Some("application/offset+octet-stream") {
        return Ok(StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response());
    }
    if !api.uploads.writing.lock().expect("lock").insert(id.clone()) {
        return Err(coded(ErrorCode::JobStateConflict, "another request is writing this upload"));
    }
    let _writing = Writing(&api.uploads, id.clone());
    let path = api.uploads.data(&id);
    let offset = offset(&api, &info).await?;
    if header_u64(&headers, "upload-offset") != Some(offset) || (offset == info.length && !info.asset_id.is_empty()) {
        return Ok(tus(Response::builder())
            .status(StatusCode::CONFLICT)
            .header("Upload-Offset", offset)
            .body(Body::empty())
            .expect("valid"));
    }
    let mut checksum = expected_checksum(&headers)?;
    let mut file = tokio::fs::OpenOptions::new().append(true).open(&path).await.map_err(internal)?;
    let mut received = offset;
    let mut stream = body.into_data_stream();
    let outcome: Result<(), Response> = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
            received += chunk.len() as u64;
            if received > info.length {
                return Err(
                    EdgeError::Coded(ErrorCode::UploadTooLarge, "more bytes than Upload-Length".into()).into_response()
                );
            }
            if let Some((_, context)) = checksum.as_mut() {
                context.update(&chunk);
            }
            file.write_all(&chunk).await.map_err(|e| internal(e).into_response())?;
        }
        if let Some((expected, context)) = checksum.take()
            && context.finish().as_ref() != expected.as_slice()
        {
            // 460 Checksum Mismatch (tus checksum extension).
            return Err(StatusCode::from_u16(460).expect("valid status").into_response());
        }
        file.flush().await.map_err(|e| internal(e).into_response())
    }
    .await;
    if let Err(refusal) = outcome {
        // Nothing of a refused PATCH stays: back to where it started.
        let _ = file.set_len(offset).await;
        return Ok(refusal);
    }
    drop(file);
    let mut response = tus(Response::builder()).status(StatusCode::NO_CONTENT).header("Upload-Offset", received);
    if received == info.length && info.asset_id.is_empty() {
        let asset = hand_off(&api, &headers, &info, &path).await?;
        info.asset_id = asset.id;
        info.job_id = asset.job_id;
        api.uploads.save(&id, &info).await.map_err(internal)?;
        // Media has its copy now; the assembled file is no longer needed.
        let _ = tokio::fs::remove_file(&path).await;
    }
    if !info.asset_id.is_empty() {
        response = response
            .header(HeaderName::from_static("ottr-asset-id"), &info.asset_id)
            .header(HeaderName::from_static("ottr-job-id"), &info.job_id);
    }
    Ok(response.body(Body::empty()).expect("valid response"))
}

/// Plain multipart upload for small files: the `file` part is spooled to disk as it
/// arrives (never held whole in memory) and handed to media in one go.
pub async fn multipart(
    State(api): State<Api>,
    headers: HeaderMap,
    mut form: axum::extract::Multipart,
) -> Result<Json<Info>, EdgeError> {
    let owner = uploader(&api, &headers).await?;
    let bad = |message: &str| EdgeError::BadRequest(message.to_owned());
    let mut field = loop {
        match form.next_field().await.map_err(|e| bad(&e.to_string()))? {
            Some(field) if field.name() == Some("file") => break field,
            Some(_) => continue,
            None => return Err(bad("a `file` part is required")),
        }
    };
    let id = uuid::Uuid::new_v4().to_string();
    let filename = field.file_name().unwrap_or("upload").to_owned();
    tokio::fs::create_dir_all(&api.uploads.dir).await.map_err(internal)?;
    let path = api.uploads.data(&id);
    let mut file = tokio::fs::File::create(&path).await.map_err(internal)?;
    let mut length = 0u64;
    let spooled: Result<(), EdgeError> = async {
        while let Some(chunk) = field.chunk().await.map_err(|e| bad(&e.to_string()))? {
            length += chunk.len() as u64;
            if length > api.uploads.max_bytes {
                return Err(coded(
                    ErrorCode::UploadTooLarge,
                    &format!("at most {} bytes are accepted", api.uploads.max_bytes),
                ));
            }
            file.write_all(&chunk).await.map_err(internal)?;
        }
        file.flush().await.map_err(internal)
    }
    .await;
    drop(file);
    let result = match spooled {
        Ok(()) => {
            let mut info = Info { id, length, filename, owner, asset_id: String::new(), job_id: String::new() };
            hand_off(&api, &headers, &info, &path).await.map(|asset| {
                info.asset_id = asset.id;
                info.job_id = asset.job_id;
                info
            })
        }
        Err(error) => Err(error),
    };
    let _ = tokio::fs::remove_file(&path).await;
    result.map(Json)
}

/// Streams the finished file to media's Upload RPC, 1 MiB at a time.
async fn hand_off(
    api: &Api,
    headers: &HeaderMap,
    info: &Info,
    path: &std::path::Path,
) -> Result<media_pb::Asset, EdgeError> {
    use media_pb::{UploadHeader, UploadRequest, upload_request::Part};
    let file = tokio::fs::File::open(path).await.map_err(internal)?;
    let header = UploadRequest {
        part: Some(Part::Header(UploadHeader { filename: info.filename.clone(), size_bytes: info.length })),
    };
    // 1 MiB messages: large enough that framing costs little, well under gRPC's 4 MiB limit.
    let chunks = tokio_util::io::ReaderStream::with_capacity(file, 1024 * 1024)
        .map_while(Result::ok)
        .map(|bytes| UploadRequest { part: Some(Part::Chunk(bytes)) });
    let messages = tonic::codegen::tokio_stream::iter([header]).chain(chunks);
    Ok(api.upstream.media.clone().upload(forward(headers, messages)).await?.into_inner())
}

fn internal(error: std::io::Error) -> EdgeError {
    tracing::error!(%error, "upload storage failed");
    coded(ErrorCode::Internal, "something went wrong on our side; try again")
}
