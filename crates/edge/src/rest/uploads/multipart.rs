//! Plain multipart upload for small files: the `file` part is spooled to disk as it
//! arrives (never held whole in memory) and handed to media in one go.

use axum::{
    Json,
    extract::{Multipart, State},
    http::HeaderMap,
};
use tonic::codegen::tokio_stream::StreamExt;

use super::{
    Info,
    caller::Uploader,
    hand_off::{finished, hand_off},
    spool::{Limit, spool},
};
use crate::{EdgeError, rest::Api};

fn unreadable(error: axum::extract::multipart::MultipartError) -> EdgeError {
    EdgeError::InvalidArgument(error.body_text())
}

pub(super) async fn multipart(
    State(api): State<Api>,
    uploader: Uploader,
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
    let mut info = Info {
        id: uuid::Uuid::new_v4().to_string(),
        length: 0,
        filename: field.file_name().unwrap_or("upload").to_owned(),
        owner: uploader.owner(),
        asset_id: String::new(),
        job_id: String::new(),
        expires_at: 0,
    };
    let mut file = api.uploads.spool_file(&info.id).await?;
    let limit = Limit { bytes: api.uploads.max_bytes, exceeded: |limit| EdgeError::UploadTooLarge { limit } };
    let spooled = spool(&mut file, field.map(|chunk| chunk.map_err(unreadable)), 0, limit, None).await;
    drop(file);
    let result = match spooled {
        Ok(length) => {
            info.length = length;
            hand_off(&api, &headers, &info).await.map(|asset| finished(&mut info, asset))
        }
        Err(error) => Err(error),
    };
    api.uploads.remove(&info.id, true).await;
    result.map(|()| Json(info))
}
