//! Upload intake: a client-streamed upload is staged to a local file as it arrives (never
//! held in memory), held to its declared size and the limit, probed, stored, and recorded
//! with its job in one transaction. A staged file goes however the call ends, and a
//! stored source goes when its asset could not be recorded.

use std::path::PathBuf;

use tokio::io::AsyncWriteExt;
use tokio_stream::StreamExt;
use tonic::Streaming;
use uuid::Uuid;

use ottr_proto::media::v1::{self as pb, upload_request::Part};
use ottr_storage::keys::AssetKeys;

use crate::{
    MediaError,
    pipeline::Context,
    probe::{self, Rejection},
    store::assets::{self, NewAsset},
};

/// A staged upload, removed however the call ends.
struct Staged(PathBuf);

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Takes in an upload by `uploader`; returns the new asset's id.
pub(crate) async fn intake(
    ctx: &Context,
    stream: Streaming<pb::UploadRequest>,
    uploader: Option<Uuid>,
) -> Result<Uuid, MediaError> {
    let started = std::time::Instant::now();
    let (header, staged, size) = receive(ctx, stream).await?;
    let received_secs = started.elapsed().as_secs_f64();
    let mut info = probe::probe(&staged.0, ctx.settings.limits.probe_limits()).await?;
    let probed_secs = started.elapsed().as_secs_f64();
    info.size_bytes = size;
    let id = Uuid::new_v4();
    let extension = std::path::Path::new(&header.filename).extension().and_then(|e| e.to_str()).unwrap_or("");
    let source_key = AssetKeys::new(id).source(extension);
    ctx.store.put_file(&source_key, &staged.0).await?;
    let filename: String = header.filename.chars().filter(|c| !c.is_control()).take(255).collect();
    let asset = NewAsset { id, filename: &filename, source_key: &source_key, source: &info, created_by: uploader };
    if let Err(error) = assets::create(&ctx.pool, &asset, ctx.settings.worker.max_attempts).await {
        // No orphaned source when the asset could not be recorded.
        let _ = ctx.store.delete(&source_key).await;
        return Err(error);
    }
    let stored_secs = started.elapsed().as_secs_f64();
    tracing::info!(asset_id = %id, size, received_secs, probed_secs, stored_secs, "source stored and queued");
    Ok(id)
}

/// The header, the staged file and its size, after the declared size is checked against
/// the limit and against what arrived.
async fn receive(
    ctx: &Context,
    mut stream: Streaming<pb::UploadRequest>,
) -> Result<(pb::UploadHeader, Staged, u64), MediaError> {
    let header = match stream.next().await {
        Some(Ok(pb::UploadRequest { part: Some(Part::Header(header)) })) => header,
        Some(Err(status)) => return Err(MediaError::UploadStream(status)),
        _ => return Err(invalid("header", "the first message must be the header")),
    };
    let limit = ctx.settings.limits.max_upload_bytes;
    if header.size_bytes > limit {
        return Err(MediaError::TooLarge(limit));
    }
    if header.size_bytes == 0 {
        return Err(Rejection::ZeroDuration.into());
    }
    let dir = ctx.settings.work_dir.join("uploads");
    tokio::fs::create_dir_all(&dir).await.map_err(MediaError::Staging)?;
    let staged = Staged(dir.join(Uuid::new_v4().to_string()));
    let received = write_chunks(&mut stream, &staged, header.size_bytes).await?;
    if received != header.size_bytes {
        return Err(MediaError::Incomplete { received, declared: header.size_bytes });
    }
    Ok((header, staged, received))
}

/// Writes every chunk that follows the header; stops as soon as more than `declared` arrived.
async fn write_chunks(
    stream: &mut Streaming<pb::UploadRequest>,
    staged: &Staged,
    declared: u64,
) -> Result<u64, MediaError> {
    let mut file = tokio::fs::File::create(&staged.0).await.map_err(MediaError::Staging)?;
    let mut received = 0u64;
    while let Some(message) = stream.next().await {
        let Some(Part::Chunk(chunk)) = message.map_err(MediaError::UploadStream)?.part else {
            return Err(invalid("chunk", "only chunks may follow the header"));
        };
        received += chunk.len() as u64;
        if received > declared {
            return Err(MediaError::Incomplete { received, declared });
        }
        file.write_all(&chunk).await.map_err(MediaError::Staging)?;
    }
    file.flush().await.map_err(MediaError::Staging)?;
    Ok(received)
}

fn invalid(field: &'static str, message: &str) -> MediaError {
    MediaError::Invalid { field, message: message.into() }
}
