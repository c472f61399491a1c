//! Appending to an upload: one writer at a time (the row's write lock), starting exactly at
//! the stored offset. Bytes are cut into parts of the configured size and sent to the
//! store as they arrive, a few at once; the row records each part as the store
//! acknowledges it, in order, so an interrupted request keeps what was stored and the
//! client resumes from there. When the request said how many bytes it brings, each part
//! it holds whole is fed to the store as its bytes arrive (the request and the store's
//! part overlap, and nothing waits in memory); other bytes are gathered into a part in
//! memory first. When the request ends short of a part its bytes are kept in the row
//! (under the store's smallest part size) and open the next part; a fed part the request
//! ends inside is given up, and the bytes it took are kept the same way. A request with a
//! checksum records nothing until its digest matched: on a mismatch the upload is as it
//! was. Parts the caller sent to the store itself (by presigned URL) come before the
//! request's bytes, and count once the store's own list agrees ([`presigned`]).

use aws_lc_rs::digest;
use bytes::Bytes;
use tokio_stream::Stream;
use uuid::Uuid;

use ottr_storage::Part;

use super::{Access, find, finish, parts::Writer, presigned};
use crate::{
    MediaError,
    pipeline::Context,
    store::uploads::{self, UploadRow, UploadState, WriteLock},
};

/// tus's `Upload-Checksum` of one request's bytes: the expected digest and its hasher.
pub(crate) type Checksum = (Vec<u8>, digest::Context);

/// What an append request says about its bytes.
pub(crate) struct Request {
    /// Where they start: must be the upload's offset.
    pub offset: u64,
    /// How many there are, when the caller knows.
    pub length: Option<u64>,
    pub checksum: Option<Checksum>,
    /// Parts the caller sent to the store itself: the bytes before `length`'s.
    pub stored: Vec<Part>,
}

/// Appends `chunks` to upload `id` as `request` describes them; returns the row after. The
/// byte that completes the upload completes the object and makes the asset.
pub(crate) async fn append<S>(
    ctx: &Context,
    access: &Access,
    id: Uuid,
    request: Request,
    chunks: S,
) -> Result<UploadRow, MediaError>
where
    S: Stream<Item = Result<Bytes, MediaError>>,
{
    // Who may write is settled before the lock is taken, so strangers cannot hold it.
    find(ctx, access, id).await?;
    let Ok(_slot) = ctx.upload_writers.clone().try_acquire_owned() else { return Err(MediaError::WritersBusy) };
    let Some(lock) = WriteLock::try_take(&ctx.write_locks, id).await? else { return Err(MediaError::UploadBusy) };
    // Read again under the lock: this is the state no other writer can change now.
    let row = find(ctx, access, id).await?;
    let Request { offset, length: request_length, checksum, stored } = request;
    let received = row.received.max(0) as u64;
    if row.state != UploadState::Receiving || offset != received {
        return match row.state {
            // Every byte arrived before but the finish did not happen: it is done again.
            UploadState::Stored if offset == received => {
                let ctx = ctx.clone();
                let task = tokio::spawn(async move {
                    let done = finish::finish(&ctx, row).await;
                    lock.release().await;
                    done
                });
                task.await.map_err(MediaError::Task)?
            }
            // Done already (the answer to the last PATCH was lost): the same answer again.
            UploadState::Complete if offset == received => {
                lock.release().await;
                Ok(row)
            }
            _ => {
                lock.release().await;
                Err(MediaError::OffsetMismatch { offset: received })
            }
        };
    }
    let mut writer = Writer::new(ctx, &row, lock);
    if !stored.is_empty() {
        let adopted = adopt(ctx, &row, &mut writer, &stored, checksum.is_some()).await;
        if let Err(error) = adopted {
            writer.release().await;
            return Err(error);
        }
    }
    let limit = row.length.map_or(ctx.settings.limits.max_upload_bytes, |length| length.max(0) as u64);
    // A request cannot bring bytes past the upload's end, whatever it says.
    writer.request_end = request_length.map(|length| writer.received.saturating_add(length).min(limit));
    let save_each = checksum.is_none();
    if let Err(error) = writer.take(chunks, limit, row.length.is_some(), checksum, save_each).await {
        // What the store acknowledged stays (unless the checksum is still to be checked);
        // the client resumes after it.
        writer.drain(save_each).await;
        writer.release().await;
        return Err(error);
    }
    writer.give_up_open_part();
    let complete = match row.length {
        Some(length) => writer.received == length.max(0) as u64,
        // A stream of unknown length is complete when it ends.
        None => true,
    };
    if !complete {
        let paused = writer.pause(limit).await;
        writer.release().await;
        paused?;
        return uploads::get(&ctx.pool, id).await?.ok_or(MediaError::NotFound("upload"));
    }
    if writer.received == 0 {
        writer.abort().await;
        return Err(crate::probe::Rejection::ZeroDuration.into());
    }
    // The end of the upload runs to its end even if this request is cancelled now (a
    // proxy's timeout, an edge restart): an object completed but never recorded would be
    // lost to the client.
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let (parts, lock) = writer.complete().await?;
        uploads::mark_stored(&ctx.pool, id, &parts).await?;
        let row = uploads::get(&ctx.pool, id).await?.ok_or(MediaError::NotFound("upload"))?;
        let finished = finish::finish(&ctx, row).await;
        if let Some(lock) = lock {
            lock.release().await;
        }
        finished
    })
    .await
    .map_err(MediaError::Task)?
}

/// Records the parts the caller says it stored, once the store's own list agrees.
async fn adopt(
    ctx: &Context,
    row: &UploadRow,
    writer: &mut Writer,
    stored: &[Part],
    checksummed: bool,
) -> Result<(), MediaError> {
    if checksummed {
        // A checksum covers bytes media sees; stored parts' bytes it never does.
        return Err(MediaError::Invalid { field: "stored", message: "parts stored directly carry no checksum".into() });
    }
    let after = row.parts.0.last().map_or(0, |part| part.number);
    let listed = ctx.store.stored_parts(&row.source_key, &row.multipart_id, after).await?;
    let checked = presigned::check(row, super::parts::part_size(ctx, row), stored, &listed)?;
    writer.adopt(checked).await
}
