//! A request body passed on to media as it arrives: small body chunks are gathered into
//! messages of about 1 MiB (large ones go as they are), so framing costs little, with a
//! few messages of read-ahead. A body that breaks off simply ends: what arrived is kept,
//! as tus allows, and the client resumes from the offset it is told.

use axum::body::{Body, Bytes};
use bytes::BytesMut;
use tokio_stream::{Stream, StreamExt, wrappers::ReceiverStream};

/// About this much per message: well under gRPC's 4 MiB limit.
const MESSAGE_BYTES: usize = 1024 * 1024;

/// Messages read ahead of media: enough to keep media's window full, and each one more is
/// 1 MiB of the edge's memory per upload in flight.
const READ_AHEAD: usize = 2;

pub(super) fn messages(body: Body) -> impl Stream<Item = Bytes> {
    gathered(body.into_data_stream())
}

/// The same for any stream of chunks (the rest of a PATCH after its parts went to the store).
pub(super) fn gathered<S, E>(chunks: S) -> impl Stream<Item = Bytes>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
    tokio::spawn(async move {
        tokio::pin!(chunks);
        let mut gathered = BytesMut::new();
        while let Some(Ok(chunk)) = chunks.next().await {
            let message = if gathered.is_empty() && chunk.len() >= MESSAGE_BYTES / 4 {
                chunk
            } else {
                gathered.extend_from_slice(&chunk);
                if gathered.len() < MESSAGE_BYTES {
                    continue;
                }
                gathered.split().freeze()
            };
            if tx.send(message).await.is_err() {
                return; // media stopped reading: the answer says why
            }
        }
        if !gathered.is_empty() {
            let _ = tx.send(gathered.freeze()).await;
        }
    });
    ReceiverStream::new(rx)
}
