//! Appending to an upload: one writer at a time (the row's write lock), starting exactly at
//! the stored offset. Bytes are cut into parts of the configured size and sent to the
//! store as they arrive, a few at once; the row records each part as the store
//! acknowledges it, in order, so an interrupted request keeps what was stored and the
//! client resumes from there. Bytes after the last whole part wait in memory; when the
//! request ends short of a part they are kept in the row (under the store's smallest part
//! size) and open the next part. A request with a checksum records nothing until its
//! digest matched: on a mismatch the upload is as it was.

use aws_lc_rs::digest;
use bytes::{Bytes, BytesMut};
use tokio::task::JoinHandle;
use tokio_stream::{Stream, StreamExt};
use uuid::Uuid;

use ottr_storage::{ObjectStore, Part, StorageError, multipart};

use super::{Access, find, finish};
use crate::{
    MediaError,
    pipeline::Context,
    store::uploads::{self, UploadRow, UploadState, WriteLock},
};

/// tus's `Upload-Checksum` of one request's bytes: the expected digest and its hasher.
pub(crate) type Checksum = (Vec<u8>, digest::Context);

/// Appends `chunks`, which start at `offset`, to upload `id`; returns the row after. The
/// byte that completes the upload completes the object and makes the asset.
pub(crate) async fn append<S>(
    ctx: &Context,
    access: &Access,
    id: Uuid,
    offset: u64,
    checksum: Option<Checksum>,
    chunks: S,
) -> Result<UploadRow, MediaError>
where
    S: Stream<Item = Result<Bytes, MediaError>>,
{
    // Who may write is settled before the lock is taken, so strangers cannot hold it.
    find(ctx, access, id).await?;
    let Ok(_slot) = ctx.upload_writers.clone().try_acquire_owned() else { return Err(MediaError::WritersBusy) };
    let Some(lock) = WriteLock::try_take(&ctx.pool, id).await? else { return Err(MediaError::UploadBusy) };
    // Read again under the lock: this is the state no other writer can change now.
    let row = find(ctx, access, id).await?;
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
    let limit = row.length.map_or(ctx.settings.limits.max_upload_bytes, |length| length.max(0) as u64);
    let save_each = checksum.is_none();
    if let Err(error) = writer.take(chunks, limit, row.length.is_some(), checksum, save_each).await {
        // What the store acknowledged stays (unless the checksum is still to be checked);
        // the client resumes after it.
        writer.drain(save_each).await;
        writer.release().await;
        return Err(error);
    }
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

/// One request's writer: the parts the store acknowledged, the ones on their way, and the
/// bytes not yet in a part. It holds the upload's write lock, and lets go of it only once
/// no part of its own is on its way (see its `Drop`), so a part sent late can never
/// overwrite the same-numbered part of the next writer.
struct Writer {
    lock: Option<WriteLock>,
    store: ObjectStore,
    pool: sqlx::PgPool,
    id: Uuid,
    key: String,
    multipart_id: String,
    part_size: usize,
    max_in_flight: usize,
    parts: Vec<Part>,
    in_flight: std::collections::VecDeque<JoinHandle<Result<Part, StorageError>>>,
    buffer: BytesMut,
    next_number: i32,
    next_offset: u64,
    /// All bytes of the upload so far: acknowledged, on their way and buffered.
    received: u64,
    /// A part failed: nothing after it may be recorded, or the row would name a later
    /// part in its place.
    broken: bool,
    /// How long the client may send nothing before the request is given up.
    idle: std::time::Duration,
}

impl Writer {
    fn new(ctx: &Context, row: &UploadRow, lock: WriteLock) -> Self {
        let settings = &ctx.settings.uploads;
        let length = row.length.map_or(ctx.settings.limits.max_upload_bytes, |l| l.max(0) as u64);
        let part_size = multipart::part_size(length, settings.part_mib.saturating_mul(1024 * 1024)) as usize;
        let parts = row.parts.0.clone();
        let stored: u64 = parts.iter().map(|part| part.size).sum();
        let mut buffer = BytesMut::with_capacity(part_size);
        buffer.extend_from_slice(&row.tail);
        Self {
            lock: Some(lock),
            store: ctx.store.clone(),
            pool: ctx.pool.clone(),
            id: row.id,
            key: row.source_key.clone(),
            multipart_id: row.multipart_id.clone(),
            part_size,
            max_in_flight: settings.parts_in_flight.max(1),
            next_number: parts.len() as i32 + 1,
            next_offset: stored,
            received: stored + row.tail.len() as u64,
            broken: false,
            idle: std::time::Duration::from_secs(settings.idle_secs.max(1)),
            parts,
            in_flight: Default::default(),
            buffer,
        }
    }

    /// Feeds every chunk through, refusing bytes past `limit` (the declared length, or the
    /// upload limit), and checks the request's checksum at its end.
    async fn take<S>(
        &mut self,
        chunks: S,
        limit: u64,
        declared: bool,
        mut checksum: Option<Checksum>,
        save_each: bool,
    ) -> Result<(), MediaError>
    where
        S: Stream<Item = Result<Bytes, MediaError>>,
    {
        tokio::pin!(chunks);
        loop {
            let next = tokio::time::timeout(self.idle, chunks.next()).await;
            let Some(chunk) = next.map_err(|_| MediaError::UploadIdle)? else { break };
            let chunk = chunk?;
            self.received += chunk.len() as u64;
            if self.received > limit {
                return Err(if declared { MediaError::LongerThanDeclared } else { MediaError::TooLarge(limit) });
            }
            if let Some((_, context)) = checksum.as_mut() {
                context.update(&chunk);
            }
            // A chunk that crosses a part's end is cut there: the buffer never grows past a
            // part (growing would copy it into an allocation twice its size), and each part
            // goes out in an allocation of its own, freed when the store has it.
            let mut rest = chunk;
            loop {
                let room = self.part_size.saturating_sub(self.buffer.len());
                self.buffer.extend_from_slice(&rest.split_to(room.min(rest.len())));
                if self.buffer.len() < self.part_size {
                    break; // all of `rest` fitted
                }
                let part = std::mem::take(&mut self.buffer).freeze();
                self.send(part, save_each).await?;
                self.buffer = BytesMut::with_capacity(self.part_size);
                if rest.is_empty() {
                    break;
                }
            }
        }
        if let Some((expected, context)) = checksum
            && context.finish().as_ref() != expected.as_slice()
        {
            return Err(MediaError::ChecksumMismatch);
        }
        Ok(())
    }

    /// Sends a part once fewer than the most allowed are on their way.
    async fn send(&mut self, bytes: Bytes, save_each: bool) -> Result<(), MediaError> {
        while self.in_flight.len() >= self.max_in_flight {
            self.settle_one(save_each).await?;
        }
        if self.next_number as u64 > multipart::MAX_PARTS {
            return Err(MediaError::Invalid {
                field: "upload",
                message: format!("more than {} parts: send larger PATCHes", multipart::MAX_PARTS),
            });
        }
        let (number, offset) = (self.next_number, self.next_offset);
        self.next_number += 1;
        self.next_offset += bytes.len() as u64;
        let (store, key, upload_id) = (self.store.clone(), self.key.clone(), self.multipart_id.clone());
        self.in_flight
            .push_back(tokio::spawn(async move { store.put_part(&key, &upload_id, number, offset, bytes).await }));
        Ok(())
    }

    /// Waits for the oldest part on its way; with `save`, records it (parts are recorded in
    /// order, so the row always names a whole prefix of the upload).
    async fn settle_one(&mut self, save: bool) -> Result<(), MediaError> {
        let Some(task) = self.in_flight.pop_front() else { return Ok(()) };
        let part = match task.await {
            Ok(Ok(part)) if !self.broken => part,
            Ok(Ok(_)) => return Ok(()), // after a failed part: not recorded
            Ok(Err(error)) => {
                self.broken = true;
                return Err(error.into());
            }
            Err(error) => {
                self.broken = true;
                return Err(MediaError::Task(error));
            }
        };
        self.parts.push(part);
        if save {
            uploads::save_progress(&self.pool, self.id, &self.parts, &[]).await?;
        }
        Ok(())
    }

    async fn settle_all(&mut self, save: bool) -> Result<(), MediaError> {
        while !self.in_flight.is_empty() {
            self.settle_one(save).await?;
        }
        Ok(())
    }

    /// After a failure: waits for every part on its way, recording (with `save`) those
    /// that arrived before the first one that did not.
    async fn drain(&mut self, save: bool) {
        while !self.in_flight.is_empty() {
            let _ = self.settle_one(save).await;
        }
    }

    /// The request ended short of the upload's end: what is buffered becomes a part when
    /// the store takes one that small and the parts left would still fit the store's
    /// limit, else it waits in the row for the next request.
    async fn pause(&mut self, length: u64) -> Result<(), MediaError> {
        let remaining = length.saturating_sub(self.received).div_ceil(self.part_size as u64);
        let fits = self.next_number as u64 + remaining < multipart::MAX_PARTS;
        if self.buffer.len() as u64 >= multipart::MIN_PART_BYTES && fits {
            let part = self.buffer.split().freeze();
            self.send(part, false).await?;
        }
        self.settle_all(false).await?;
        uploads::save_progress(&self.pool, self.id, &self.parts, &self.buffer).await
    }

    /// The last bytes as the last part (any size), then the object in place; the lock
    /// is handed back, for the finish to run under it.
    async fn complete(mut self) -> Result<(Vec<Part>, Option<WriteLock>), MediaError> {
        if !self.buffer.is_empty() {
            let part = self.buffer.split().freeze();
            self.send(part, false).await?;
        }
        self.settle_all(false).await?;
        if let Err(error) = self.store.complete_upload(&self.key, &self.multipart_id, &self.parts).await {
            // A completion that went through but whose answer was lost leaves the object
            // in place and the store's upload gone: the object of the right size is done.
            let total: u64 = self.parts.iter().map(|part| part.size).sum();
            let stored = self.store.head(&self.key).await.ok().flatten();
            if stored.is_none_or(|meta| meta.size != total) {
                return Err(error.into());
            }
        }
        Ok((std::mem::take(&mut self.parts), self.lock.take()))
    }

    /// Lets go of the lock now, once no part is on its way.
    async fn release(mut self) {
        self.drain(false).await;
        if let Some(lock) = self.lock.take() {
            lock.release().await;
        }
    }

    /// An upload that ended with nothing in it: its store upload goes with its row.
    async fn abort(mut self) {
        self.drain(false).await;
        let _ = self.store.abort_upload(&self.key, &self.multipart_id).await;
        let _ = uploads::delete(&self.pool, self.id).await;
        self.release().await;
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Dropped with parts on their way (the request was cancelled, or failed before
        // they settled): the lock goes only after them.
        let pending = std::mem::take(&mut self.in_flight);
        let lock = self.lock.take();
        if !pending.is_empty() {
            tokio::spawn(async move {
                for task in pending {
                    let _ = task.await;
                }
                drop(lock);
            });
        }
    }
}
