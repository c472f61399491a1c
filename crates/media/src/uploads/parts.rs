//! One request's parts on their way to the store: cut from the request's bytes, fed to
//! the store as they arrive when the request holds them whole or gathered in memory
//! first, sent a few at once, and recorded in the upload's row in order as the store
//! acknowledges them. [`super::writer`] decides when a request may write and what its
//! end means for the upload.

use bytes::{Bytes, BytesMut};
use tokio::task::JoinHandle;
use tokio_stream::{Stream, StreamExt};
use uuid::Uuid;

use ottr_storage::{
    ObjectStore, Part, StorageError,
    feed::{self, FeedSender},
    multipart,
};

use super::writer::Checksum;
use crate::{
    MediaError,
    pipeline::Context,
    store::uploads::{self, UploadRow, WriteLock},
};

/// One request's writer: the parts the store acknowledged, the ones on their way, and the
/// bytes not yet in a part. It holds the upload's write lock, and lets go of it only once
/// no part of its own is on its way (see its `Drop`), so a part sent late can never
/// overwrite the same-numbered part of the next writer.
pub(super) struct Writer {
    lock: Option<WriteLock>,
    store: ObjectStore,
    pool: sqlx::PgPool,
    id: Uuid,
    key: String,
    multipart_id: String,
    part_size: usize,
    max_in_flight: usize,
    parts: Vec<Part>,
    /// Parts on their way, by number, oldest first.
    in_flight: std::collections::VecDeque<(i32, JoinHandle<Result<Part, StorageError>>)>,
    buffer: BytesMut,
    /// The part being fed as its bytes arrive, and how many it still takes.
    open: Option<(FeedSender, u64)>,
    /// Where this request's bytes end in the upload, when it said how many it brings.
    pub(super) request_end: Option<u64>,
    /// The bytes fed so far to the open part, kept (shared, not copied) until it is whole:
    /// a request that ends inside it keeps them as gathered bytes are kept.
    fed: Vec<Bytes>,
    /// A fed part the request ended inside: its failure is expected, not an error.
    given_up: Option<i32>,
    next_number: i32,
    next_offset: u64,
    /// All bytes of the upload so far: acknowledged, on their way and buffered.
    pub(super) received: u64,
    /// A part failed: nothing after it may be recorded, or the row would name a later
    /// part in its place.
    broken: bool,
    /// How long the client may send nothing before the request is given up.
    idle: std::time::Duration,
}

/// The size of an upload's parts (all but its last).
pub(super) fn part_size(ctx: &Context, row: &UploadRow) -> u64 {
    let length = row.length.map_or(ctx.settings.limits.max_upload_bytes, |l| l.max(0) as u64);
    multipart::part_size(length, ctx.settings.uploads.part_mib.saturating_mul(1024 * 1024))
}

impl Writer {
    pub(super) fn new(ctx: &Context, row: &UploadRow, lock: WriteLock) -> Self {
        let settings = &ctx.settings.uploads;
        let part_size = part_size(ctx, row) as usize;
        let parts = row.parts.0.clone();
        let stored: u64 = parts.iter().map(|part| part.size).sum();
        // A part's room is taken only when bytes are gathered in memory (not for fed parts).
        let buffer = BytesMut::from(&row.tail[..]);
        Self {
            lock: Some(lock),
            store: ctx.store.clone(),
            pool: ctx.pool.clone(),
            id: row.id,
            key: row.source_key.clone(),
            multipart_id: row.multipart_id.clone(),
            part_size,
            max_in_flight: settings.parts_in_flight.max(1),
            next_number: row.next_part_number(),
            next_offset: stored,
            received: stored + row.tail.len() as u64,
            broken: false,
            idle: std::time::Duration::from_secs(settings.idle_secs.max(1)),
            parts,
            in_flight: Default::default(),
            buffer,
            open: None,
            request_end: None,
            fed: Vec::new(),
            given_up: None,
        }
    }

    /// Feeds every chunk through, refusing bytes past `limit` (the declared length, or the
    /// upload limit), and checks the request's checksum at its end.
    pub(super) async fn take<S>(
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
            let mut rest = chunk;
            while !rest.is_empty() {
                if self.open.is_some() {
                    self.feed(&mut rest, save_each).await?;
                    continue;
                }
                // The bytes this request still brings, `rest` included, when it said.
                let coming = self.request_end.map(|end| end.saturating_sub(self.received - rest.len() as u64));
                let room = self.part_size.saturating_sub(self.buffer.len());
                if coming.is_some_and(|coming| coming >= room as u64) {
                    self.open_fed_part(save_each).await?;
                    continue;
                }
                // Gathered in memory, in room for what is still to come (a part when that
                // is not known). A chunk that crosses a part's end is cut there: the
                // buffer never grows past a part (growing would copy it into an
                // allocation twice its size), and each part goes out in an allocation of
                // its own, freed when the store has it.
                self.buffer.reserve(coming.map_or(room, |coming| coming as usize).min(room));
                self.buffer.extend_from_slice(&rest.split_to(room.min(rest.len())));
                if self.buffer.len() == self.part_size {
                    let part = std::mem::take(&mut self.buffer).freeze();
                    self.send(part, save_each).await?;
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

    /// Records parts another process stored (checked against the store by
    /// [`super::presigned::check`]): the upload's next bytes, before any this request brings.
    pub(super) async fn adopt(&mut self, stored: Vec<Part>) -> Result<(), MediaError> {
        if stored.is_empty() {
            return Ok(());
        }
        let size: u64 = stored.iter().map(|part| part.size).sum();
        let last = stored.last().map_or(0, |part| part.number);
        self.parts.extend(stored);
        self.received += size;
        self.next_offset += size;
        self.next_number = self.next_number.max(last + 1);
        uploads::save_progress(&self.pool, self.id, &self.parts, &self.buffer).await
    }

    /// Waits until fewer than the most allowed parts are on their way, then numbers the
    /// next part of `size` bytes: its number and where it starts.
    async fn next_part(&mut self, size: u64, save: bool) -> Result<(i32, u64), MediaError> {
        while self.in_flight.len() >= self.max_in_flight {
            self.settle_one(save).await?;
        }
        if self.next_number as u64 > multipart::MAX_PARTS {
            return Err(MediaError::Invalid {
                field: "upload",
                message: format!("more than {} parts: send larger PATCHes", multipart::MAX_PARTS),
            });
        }
        let (number, offset) = (self.next_number, self.next_offset);
        self.next_number += 1;
        self.next_offset += size;
        Ok((number, offset))
    }

    /// Sends a part gathered in memory.
    async fn send(&mut self, bytes: Bytes, save_each: bool) -> Result<(), MediaError> {
        let (number, offset) = self.next_part(bytes.len() as u64, save_each).await?;
        let (store, key, upload_id) = (self.store.clone(), self.key.clone(), self.multipart_id.clone());
        let task = tokio::spawn(async move { store.put_part(&key, &upload_id, number, offset, bytes).await });
        self.in_flight.push_back((number, task));
        Ok(())
    }

    /// Starts a whole part whose bytes are fed to the store as they arrive, beginning with
    /// those already gathered (the row's tail).
    async fn open_fed_part(&mut self, save_each: bool) -> Result<(), MediaError> {
        let size = self.part_size as u64;
        let (number, offset) = self.next_part(size, save_each).await?;
        let (sender, part) = feed::feed(size);
        let (store, key, upload_id) = (self.store.clone(), self.key.clone(), self.multipart_id.clone());
        let task = tokio::spawn(async move { store.put_part_fed(&key, &upload_id, number, offset, part).await });
        self.in_flight.push_back((number, task));
        self.open = Some((sender, size));
        let mut gathered = std::mem::take(&mut self.buffer).freeze();
        if !gathered.is_empty() {
            self.feed(&mut gathered, save_each).await?;
        }
        Ok(())
    }

    /// Feeds the open part from the front of `rest`, as much as it still takes; closes it
    /// once whole. Waits while the store is behind: that is the request's back-pressure.
    async fn feed(&mut self, rest: &mut Bytes, save_each: bool) -> Result<(), MediaError> {
        let Some((sender, wanted)) = self.open.as_mut() else { return Ok(()) };
        let piece = rest.split_to((*wanted).min(rest.len() as u64) as usize);
        *wanted -= piece.len() as u64;
        let whole = *wanted == 0;
        self.fed.push(piece.clone());
        if sender.send(piece).await.is_err() {
            // The part's upload ended before taking its bytes: it failed, and says why.
            self.open = None;
            self.settle_all(save_each).await?;
            return Err(StorageError::S3("a part's upload ended before its bytes were sent".into()).into());
        }
        if whole {
            self.open = None; // the feed closes: the part's body is complete
            self.fed.clear();
        }
        Ok(())
    }

    /// The request ended inside a fed part: the part is given up (its feed closes short, so
    /// the store keeps nothing of it) and its number is free again. The bytes it took come
    /// back as gathered bytes, which the request's end keeps as ever (a part of their own
    /// when they make one, else the row's tail): a request that always breaks off before a
    /// part is whole still moves the upload on.
    pub(super) fn give_up_open_part(&mut self) {
        if self.open.take().is_none() {
            return;
        }
        let number = self.next_number - 1;
        self.given_up = Some(number);
        self.next_number = number;
        self.next_offset -= self.part_size as u64;
        let mut buffer = BytesMut::with_capacity(self.fed.iter().map(Bytes::len).sum());
        for piece in self.fed.drain(..) {
            buffer.extend_from_slice(&piece);
        }
        self.buffer = buffer;
        debug_assert_eq!(self.received, self.next_offset + self.buffer.len() as u64, "no byte is lost");
    }

    /// Waits for the oldest part on its way; with `save`, records it (parts are recorded in
    /// order, so the row always names a whole prefix of the upload).
    async fn settle_one(&mut self, save: bool) -> Result<(), MediaError> {
        // Awaited where it stands and taken out only once done: if this request is
        // cancelled meanwhile, `Drop` still sees the part and holds the lock until it ends.
        let Some((number, task)) = self.in_flight.front_mut() else { return Ok(()) };
        let number = *number;
        let done = task.await;
        self.in_flight.pop_front();
        if self.given_up == Some(number) {
            // Failed as it should: not recorded, and the number goes to the next part.
            self.given_up = None;
            return Ok(());
        }
        let part = match done {
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
    pub(super) async fn drain(&mut self, save: bool) {
        self.give_up_open_part();
        while !self.in_flight.is_empty() {
            let _ = self.settle_one(save).await;
        }
    }

    /// The request ended short of the upload's end: what is buffered becomes a part when
    /// the store takes one that small and the parts left would still fit the store's
    /// limit, else it waits in the row for the next request.
    pub(super) async fn pause(&mut self, length: u64) -> Result<(), MediaError> {
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
    pub(super) async fn complete(mut self) -> Result<(Vec<Part>, Option<WriteLock>), MediaError> {
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
    pub(super) async fn release(mut self) {
        self.drain(false).await;
        if let Some(lock) = self.lock.take() {
            lock.release().await;
        }
    }

    /// An upload that ended with nothing in it: its store upload goes with its row.
    pub(super) async fn abort(mut self) {
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
        drop(self.open.take()); // a fed part's upload ends when its feed closes
        let pending: Vec<_> = std::mem::take(&mut self.in_flight).into_iter().map(|(_, task)| task).collect();
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
