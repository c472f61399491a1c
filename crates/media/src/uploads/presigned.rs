//! Parts a caller sends to the store itself, so their bytes never pass through media (the
//! edge's tus PATCH, by presigned URL). [`plan`] reserves the parts' numbers under the
//! upload's write lock and presigns a URL for each; the caller PUTs them as its bytes
//! arrive, then names them in the header of the AppendUpload that follows, where [`check`]
//! holds each against the store's own list before the writer records it. Reserved numbers
//! are never handed out again, so a part PUT late (by a caller that gave up, or lost its
//! connection to media) can only land on a number nobody records.

use std::time::Duration;

use ottr_storage::{Part, multipart};
use uuid::Uuid;

use super::{Access, find, parts::part_size};
use crate::{
    MediaError,
    pipeline::Context,
    store::uploads::{self, UploadRow, UploadState, WriteLock},
};

/// At most this many parts per plan: the caller records them (one AppendUpload) before it
/// plans again. Numbers handed out and then not recorded (a PATCH that broke off or lost
/// a race) are never used again, so this is also the most one PATCH can waste.
const MAX_PLANNED_PARTS: u64 = 16;

/// Part numbers kept free beyond what the rest of the upload needs before parts are
/// planned: under it, every byte goes through media, whose writers waste no numbers, so
/// an upload whose plans wasted some still fits S3's 10,000 parts.
const SPARE_NUMBERS: u64 = 4 * MAX_PLANNED_PARTS;

/// How long a part's URL works, at most: a PUT starts when the caller's bytes for it
/// arrive, which a slow client makes late.
const URL_TTL: Duration = Duration::from_secs(3600);

/// What the caller does with its next bytes.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Stream this many through AppendUpload first (they complete the part the row's kept
    /// bytes begin), then plan again.
    pub stream_first: u64,
    /// PUT these, in order, each exactly its size.
    pub parts: Vec<Planned>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Planned {
    pub number: i32,
    pub size: u64,
    pub url: String,
}

/// The plan for `length` bytes at `offset`. Empty (stream every byte) when the store takes
/// no presigned parts, the upload's length is unknown, the bytes make no whole part, or
/// the request would be refused anyway (AppendUpload then says why).
pub(crate) async fn plan(
    ctx: &Context,
    access: &Access,
    id: Uuid,
    offset: u64,
    length: u64,
) -> Result<Plan, MediaError> {
    find(ctx, access, id).await?;
    // Admitted as a writer is: planning takes a lock connection too.
    let Ok(_slot) = ctx.upload_writers.clone().try_acquire_owned() else { return Err(MediaError::WritersBusy) };
    let Some(lock) = WriteLock::try_take(&ctx.write_locks, id).await? else { return Err(MediaError::UploadBusy) };
    let planned = match find(ctx, access, id).await {
        Ok(row) => plan_locked(ctx, &row, offset, length).await,
        Err(error) => Err(error),
    };
    lock.release().await;
    planned
}

async fn plan_locked(ctx: &Context, row: &UploadRow, offset: u64, length: u64) -> Result<Plan, MediaError> {
    let received = row.received.max(0) as u64;
    let Some(total) = row.length.map(|length| length.max(0) as u64) else { return Ok(Plan::default()) };
    if row.state != UploadState::Receiving || offset != received || !ctx.store.takes_presigned_parts() {
        return Ok(Plan::default());
    }
    if length > total - received {
        return Err(MediaError::LongerThanDeclared);
    }
    let part_size = part_size(ctx, row);
    let sizes = part_sizes(part_size, row.tail.len() as u64, received, length, total);
    let sizes = match sizes {
        Sizes::StreamFirst(bytes) => return Ok(Plan { stream_first: bytes, parts: Vec::new() }),
        Sizes::Parts(sizes) if !sizes.is_empty() => sizes,
        Sizes::Parts(_) => return Ok(Plan::default()),
    };
    let first = row.next_part_number();
    let last = first + sizes.len() as i32 - 1;
    let planned_bytes: u64 = sizes.iter().sum();
    let after = (total - received - planned_bytes).div_ceil(part_size);
    if last as u64 + after + SPARE_NUMBERS > multipart::MAX_PARTS {
        return Ok(Plan::default());
    }
    uploads::issue_part_numbers(&ctx.pool, row.id, last).await?;
    let ttl = row.expires_at - time::OffsetDateTime::now_utc();
    let ttl = URL_TTL.min(Duration::from_secs(ttl.whole_seconds().max(1) as u64));
    let mut parts = Vec::with_capacity(sizes.len());
    for (number, size) in (first..).zip(sizes) {
        let url = ctx.store.presigned_part(&row.source_key, &row.multipart_id, number, ttl).await?;
        let Some(url) = url else { return Ok(Plan::default()) };
        parts.push(Planned { number, size, url });
    }
    Ok(Plan { stream_first: 0, parts })
}

#[derive(Debug, PartialEq, Eq)]
enum Sizes {
    StreamFirst(u64),
    Parts(Vec<u64>),
}

/// The parts `length` bytes at `received` make: whole parts of `part_size` (a shorter one
/// only where the upload ends), at most [`MAX_PLANNED_PARTS`]. With `tail` bytes kept in
/// the row, the part they begin is completed through media first, when parts follow it.
fn part_sizes(part_size: u64, tail: u64, received: u64, length: u64, total: u64) -> Sizes {
    if tail > 0 {
        let room = part_size.saturating_sub(tail);
        return if length >= room + part_size { Sizes::StreamFirst(room) } else { Sizes::Parts(Vec::new()) };
    }
    let whole = (length / part_size).min(MAX_PLANNED_PARTS);
    let mut sizes = vec![part_size; whole as usize];
    let rest = length - whole * part_size;
    if whole < MAX_PLANNED_PARTS && rest > 0 && received + length == total {
        sizes.push(rest);
    }
    Sizes::Parts(sizes)
}

/// The parts a caller says it stored, each as the store lists it: numbers in order,
/// reserved for this upload and above the last recorded one; every part whole but one
/// that ends the upload; size and ETag as the store has them. Anything else is refused,
/// and nothing is recorded.
pub(super) fn check(
    row: &UploadRow,
    part_size: u64,
    stored: &[Part],
    listed: &[Part],
) -> Result<Vec<Part>, MediaError> {
    let invalid = |message: String| MediaError::Invalid { field: "stored", message };
    if !row.tail.is_empty() {
        return Err(invalid("parts may only follow whole parts, not kept bytes".into()));
    }
    let total = row.length.map(|length| length.max(0) as u64);
    let mut previous = row.parts.0.last().map_or(0, |part| part.number);
    let mut end = row.received.max(0) as u64;
    let mut checked = Vec::with_capacity(stored.len());
    for (index, part) in stored.iter().enumerate() {
        if part.number <= previous || part.number > row.parts_issued {
            return Err(invalid(format!("part {} was not handed out for these bytes", part.number)));
        }
        end += part.size;
        let last_of_upload = index == stored.len() - 1 && total == Some(end);
        let fits = part.size == part_size || (last_of_upload && part.size > 0 && part.size < part_size);
        if !fits || total.is_some_and(|total| end > total) {
            return Err(invalid(format!("part {} has {} bytes", part.number, part.size)));
        }
        let Some(found) = listed.iter().find(|found| found.number == part.number) else {
            return Err(invalid(format!("part {} is not in the store", part.number)));
        };
        if found.size != part.size || unquoted(&found.etag) != unquoted(&part.etag) {
            return Err(invalid(format!("part {} is not what the store holds", part.number)));
        }
        checked.push(found.clone());
        previous = part.number;
    }
    Ok(checked)
}

fn unquoted(etag: &str) -> &str {
    etag.trim_matches('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn whole_parts_go_direct_and_only_the_upload_s_end_may_be_short() {
        let parts = |sizes: Sizes| match sizes {
            Sizes::Parts(sizes) => sizes,
            other => panic!("{other:?}"),
        };
        // 20 MiB in the middle of a 100 MiB upload: two whole parts; the rest is streamed.
        assert_eq!(parts(part_sizes(8 * MIB, 0, 0, 20 * MIB, 100 * MIB)), vec![8 * MIB, 8 * MIB]);
        // The same bytes ending the upload: the short last part too.
        assert_eq!(parts(part_sizes(8 * MIB, 0, 80 * MIB, 20 * MIB, 100 * MIB)), vec![8 * MIB, 8 * MIB, 4 * MIB]);
        // Less than a part, not at the end: nothing direct.
        assert!(parts(part_sizes(8 * MIB, 0, 0, 7 * MIB, 100 * MIB)).is_empty());
        // At most MAX_PLANNED_PARTS, and then no short part.
        let many = parts(part_sizes(8 * MIB, 0, 0, 300 * MIB, 300 * MIB));
        assert_eq!(many.len() as u64, MAX_PLANNED_PARTS);
        assert!(many.iter().all(|&size| size == 8 * MIB));
    }

    #[test]
    fn kept_bytes_are_completed_through_media_first_when_parts_follow() {
        assert_eq!(part_sizes(8 * MIB, 3 * MIB, 3 * MIB, 20 * MIB, 100 * MIB), Sizes::StreamFirst(5 * MIB));
        assert_eq!(part_sizes(8 * MIB, 3 * MIB, 3 * MIB, 10 * MIB, 100 * MIB), Sizes::Parts(Vec::new()));
    }
}
