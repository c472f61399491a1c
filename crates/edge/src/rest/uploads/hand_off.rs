//! The hand-off to media: a finished spool file streamed to media's Upload RPC with the
//! uploader's token, 1 MiB per message; media stores, probes and queues it.

use axum::http::HeaderMap;
use tonic::codegen::tokio_stream::{self, StreamExt};

use ottr_proto::media::v1::{Asset, UploadHeader, UploadRequest, upload_request::Part};

use super::Info;
use crate::{EdgeError, rest::Api, upstream::forward};

/// 1 MiB messages: large enough that framing costs little, well under gRPC's 4 MiB limit.
const MESSAGE_BYTES: usize = 1024 * 1024;

pub(super) async fn hand_off(api: &Api, headers: &HeaderMap, info: &Info) -> Result<Asset, EdgeError> {
    let path = api.uploads.data(&info.id);
    let file = tokio::fs::File::open(&path).await.map_err(|e| EdgeError::internal("opening a spool file", e))?;
    let header = UploadRequest {
        part: Some(Part::Header(UploadHeader { filename: info.filename.clone(), size_bytes: info.length })),
    };
    let chunks = tokio_util::io::ReaderStream::with_capacity(file, MESSAGE_BYTES)
        .map_while(Result::ok)
        .map(|bytes| UploadRequest { part: Some(Part::Chunk(bytes)) });
    let messages = tokio_stream::iter([header]).chain(chunks);
    Ok(api.upstream.media.clone().upload(forward(headers, messages)).await?.into_inner())
}

/// Records what media made of a finished upload.
pub(super) fn finished(info: &mut Info, asset: Asset) {
    info.asset_id = asset.id;
    info.job_id = asset.job_id;
}
