//! Upload intake for internal clients (the client-streaming `Upload` RPC): the stream is
//! one resumable upload written in one go, so its bytes go straight into the store as
//! parts ([`crate::uploads`]), and the stored object is probed and queued. A stream that
//! fails or ends short leaves nothing behind: it cannot be resumed.

use tokio_stream::StreamExt;
use tonic::Streaming;
use uuid::Uuid;

use ottr_proto::media::v1::{self as pb, upload_request::Part};

use crate::{
    MediaError,
    pipeline::Context,
    store::uploads::UploadState,
    uploads::{self, Access, Creator},
};

/// Takes in an upload by `uploader`; returns the new asset's id.
pub(crate) async fn intake(
    ctx: &Context,
    mut stream: Streaming<pb::UploadRequest>,
    uploader: Uuid,
) -> Result<Uuid, MediaError> {
    let header = match stream.next().await {
        Some(Ok(pb::UploadRequest { part: Some(Part::Header(header)) })) => header,
        Some(Err(status)) => return Err(MediaError::UploadStream(status)),
        _ => return Err(invalid("header", "the first message must be the header")),
    };
    // 0: not known in advance; the stream's end is the upload's end.
    let declared = Some(header.size_bytes).filter(|size| *size > 0);
    let (row, _) = uploads::create(ctx, Creator::Staff(uploader), declared, &header.filename).await?;
    let chunks = stream.map(|message| match message {
        Ok(pb::UploadRequest { part: Some(Part::Chunk(chunk)) }) => Ok(chunk),
        Ok(_) => Err(invalid("chunk", "only chunks may follow the header")),
        Err(status) => Err(MediaError::UploadStream(status)),
    });
    let access = Access::Owner(uploader);
    // The stream is the whole upload: its declared size is what it brings.
    let request = uploads::Request { offset: 0, length: declared, checksum: None, stored: Vec::new() };
    let outcome = match uploads::append(ctx, &access, row.id, request, chunks).await {
        Ok(done) if done.state == UploadState::Complete => return Ok(done.asset_id),
        Ok(short) => {
            Err(MediaError::Incomplete { received: short.received.max(0) as u64, declared: header.size_bytes })
        }
        // This RPC's contract: a stream that does not match its header is incomplete.
        Err(MediaError::LongerThanDeclared) => {
            Err(MediaError::Incomplete { received: header.size_bytes + 1, declared: header.size_bytes })
        }
        Err(error) => Err(error),
    };
    // Nothing resumes a stream: what it stored goes (a refused source went already).
    if let Err(error) = uploads::delete(ctx, &access, row.id).await
        && !matches!(error, MediaError::NotFound(_))
    {
        tracing::warn!(upload_id = %row.id, error = %ottr_runtime::service_error::chain(&error), "dropping a failed upload");
    }
    outcome
}

fn invalid(field: &'static str, message: &str) -> MediaError {
    MediaError::Invalid { field, message: message.into() }
}
