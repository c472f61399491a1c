//! The one loop that writes a request body to a spool file, shared by tus PATCH and
//! multipart: chunk by chunk as they arrive, never more than a limit, feeding an optional
//! checksum. A body that is refused half-way (too long, unreadable, wrong checksum, a
//! failed write) leaves the file as it was before it started.

use aws_lc_rs::digest;
use axum::body::Bytes;
use tokio::{fs::File, io::AsyncWriteExt};
use tonic::codegen::tokio_stream::{Stream, StreamExt};

use crate::EdgeError;

/// How many bytes the file may hold in all, and what to answer past that.
pub(super) struct Limit {
    pub bytes: u64,
    pub exceeded: fn(u64) -> EdgeError,
}

/// A checksum the client sent for this body: the expected digest and a hasher to feed.
pub(super) type Checksum = (Vec<u8>, digest::Context);

/// Appends `chunks` to `file`, which holds `start` bytes; returns how many it holds after.
pub(super) async fn spool<S>(
    file: &mut File,
    chunks: S,
    start: u64,
    limit: Limit,
    checksum: Option<Checksum>,
) -> Result<u64, EdgeError>
where
    S: Stream<Item = Result<Bytes, EdgeError>>,
{
    let written = write(file, chunks, start, limit, checksum).await;
    if written.is_err() {
        // Nothing of a refused body stays: back to where it started.
        let _ = file.set_len(start).await;
    }
    written
}

async fn write<S>(
    file: &mut File,
    chunks: S,
    start: u64,
    limit: Limit,
    mut checksum: Option<Checksum>,
) -> Result<u64, EdgeError>
where
    S: Stream<Item = Result<Bytes, EdgeError>>,
{
    let failed = |error| EdgeError::internal("writing a spool file", error);
    let mut received = start;
    tokio::pin!(chunks);
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        received += chunk.len() as u64;
        if received > limit.bytes {
            return Err((limit.exceeded)(limit.bytes));
        }
        if let Some((_, context)) = checksum.as_mut() {
            context.update(&chunk);
        }
        file.write_all(&chunk).await.map_err(failed)?;
    }
    if let Some((expected, context)) = checksum
        && context.finish().as_ref() != expected.as_slice()
    {
        return Err(EdgeError::ChecksumMismatch);
    }
    file.flush().await.map_err(failed)?;
    Ok(received)
}
