//! Plain multipart upload for small files and scripts: the `file` part is streamed to
//! media's Upload RPC as it arrives (its length is not known up front; media stores it as
//! it comes, within the upload limit), and the answer names the asset and its job.

use axum::{
    Json,
    extract::{Multipart, State},
    http::HeaderMap,
};
use tonic::codegen::tokio_stream;

use ottr_proto::media::v1::{UploadHeader, UploadRequest, upload_request::Part};

use super::Info;
use crate::{EdgeError, error::ErrorBody, rest::Api, upstream::forward};

fn unreadable(error: axum::extract::multipart::MultipartError) -> EdgeError {
    EdgeError::InvalidArgument(error.body_text())
}

/// The form `POST /api/v1/uploads/file` reads (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // read part by part from the stream, never as a whole
pub(crate) struct FileForm {
    /// The source file; its file name is kept as the asset's.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// One request, not resumable: the `file` part of a `multipart/form-data` body.
#[utoipa::path(post, path = "/api/v1/uploads/file", tag = "uploads", security(("bearer" = [])),
    request_body(content = FileForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, body = Info, description = "stored, probed and queued: the asset and its job"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "upload_too_large"),
        (status = 415, body = ErrorBody, description = "unsupported_container"),
        (status = 422, body = ErrorBody, description = "a source ffprobe refuses (no_video_stream, unreadable_media, …)"),
    ))]
pub(crate) async fn multipart(
    State(api): State<Api>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Json<Info>, EdgeError> {
    let field = loop {
        match form.next_field().await.map_err(unreadable)? {
            Some(field) if field.name() == Some("file") => break field,
            Some(_) => continue,
            None => return Err(EdgeError::InvalidArgument("a `file` part is required".into())),
        }
    };
    let filename = field.file_name().unwrap_or("upload").to_owned();
    // 0: the length is not known; the stream's end is the upload's end. So a part that
    // breaks off must not just end the stream: a second header goes instead, which media
    // refuses (only chunks may follow the header), discarding what it stored.
    let header = UploadRequest { part: Some(Part::Header(UploadHeader { filename: filename.clone(), size_bytes: 0 })) };
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let feed = async move {
        let mut field = field;
        let poison = header.clone();
        let _ = tx.send(header).await;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if tx.send(UploadRequest { part: Some(Part::Chunk(chunk)) }).await.is_err() {
                        break; // media answered already
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    let _ = tx.send(poison).await;
                    return Err(unreadable(error));
                }
            }
        }
        Ok::<(), EdgeError>(())
    };
    let mut media = api.upstream.media.clone();
    let call = media.upload(forward(&headers, tokio_stream::wrappers::ReceiverStream::new(rx)));
    tokio::pin!(feed, call);
    let asset = tokio::select! {
        answer = &mut call => answer?,
        fed = &mut feed => match fed {
            Ok(()) => call.await?,
            Err(error) => {
                // Media's refusal of the poisoned stream, after it cleaned up.
                let _ = call.await;
                return Err(error);
            }
        },
    }
    .into_inner();
    let length = asset.source.as_ref().map_or(0, |source| source.size_bytes);
    Ok(Json(Info {
        id: asset.id.clone(),
        length,
        offset: length,
        filename,
        asset_id: asset.id,
        job_id: asset.job_id,
        expires_at: 0,
    }))
}
