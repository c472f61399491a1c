//! Resumable uploads' rows (`media.uploads`): the whole state of an upload, so any media
//! instance carries on what another started. Only the holder of an upload's write lock
//! ([`WriteLock`]) moves its parts and offset; the lock is a session advisory lock on a
//! connection of its own, so a writer that dies lets go with its connection.

use ottr_storage::Part;
use sqlx::{PgConnection, PgPool, types::Json};
use time::OffsetDateTime;
use uuid::Uuid;

pub use super::write_lock::{WriteLock, WriteLocks};

use super::text_state;
use crate::MediaError;

text_state! {
    /// receiving → stored (the object is in place) → complete (probed, asset and job made).
    UploadState { Receiving => "receiving", Stored => "stored", Complete => "complete" }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UploadRow {
    pub id: Uuid,
    pub owner: Uuid,
    pub filename: String,
    /// `None` while unknown (an internal stream that ends when it ends).
    pub length: Option<i64>,
    pub received: i64,
    pub asset_id: Uuid,
    pub source_key: String,
    pub multipart_id: String,
    pub parts: Json<Vec<Part>>,
    /// The highest part number handed out so far, recorded or not: the next part is
    /// numbered above it (and above the last recorded one).
    pub parts_issued: i32,
    pub tail: Vec<u8>,
    pub state: UploadState,
    pub job_id: Option<Uuid>,
    pub key_hash: Option<Vec<u8>>,
    pub expires_at: OffsetDateTime,
}

impl UploadRow {
    pub fn expired(&self) -> bool {
        self.expires_at <= OffsetDateTime::now_utc()
    }

    /// The number the next part takes: above every part recorded or handed out, so no
    /// writer takes a number a caller may still be sending a part to (media's own writers
    /// are kept apart by the write lock; callers with planned parts, by this).
    pub fn next_part_number(&self) -> i32 {
        let recorded = self.parts.0.last().map_or(0, |part| part.number);
        recorded.max(self.parts_issued) + 1
    }
}

/// What a new upload starts with.
pub struct NewUpload<'a> {
    pub id: Uuid,
    pub owner: Uuid,
    pub filename: &'a str,
    pub length: Option<u64>,
    pub asset_id: Uuid,
    pub source_key: &'a str,
    pub multipart_id: &'a str,
    pub key_hash: Option<&'a [u8]>,
    pub expires_at: OffsetDateTime,
}

/// A query for whole rows, the columns named once.
macro_rules! select_rows {
    ($rest:literal) => {
        concat!(
            "SELECT id, owner, filename, length, received, asset_id, source_key, multipart_id, parts, parts_issued, tail, state,
                    job_id, key_hash, expires_at FROM media.uploads ",
            $rest
        )
    };
}

fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Bytes `owner`'s unfinished, unexpired uploads declared, all together; serialised per
/// owner until `tx` ends, so two creations cannot both fit in the last of a quota.
pub async fn declared_in_flight(tx: &mut PgConnection, owner: Uuid) -> Result<u64, MediaError> {
    // A namespace of its own (the two-key form), apart from the uploads' write locks.
    sqlx::query("SELECT pg_advisory_xact_lock(1, hashtext($1::text))").bind(owner).execute(&mut *tx).await?;
    let total: Option<i64> = sqlx::query_scalar(
        "SELECT sum(length)::bigint FROM media.uploads WHERE owner = $1 AND state = 'receiving' AND expires_at > now()",
    )
    .bind(owner)
    .fetch_one(&mut *tx)
    .await?;
    Ok(total.unwrap_or(0).max(0) as u64)
}

pub async fn insert(tx: &mut PgConnection, upload: &NewUpload<'_>) -> Result<(), MediaError> {
    sqlx::query(
        "INSERT INTO media.uploads (id, owner, filename, length, asset_id, source_key, multipart_id, key_hash, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(upload.id)
    .bind(upload.owner)
    .bind(upload.filename)
    .bind(upload.length.map(signed))
    .bind(upload.asset_id)
    .bind(upload.source_key)
    .bind(upload.multipart_id)
    .bind(upload.key_hash)
    .bind(upload.expires_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<UploadRow>, MediaError> {
    Ok(sqlx::query_as(select_rows!("WHERE id = $1")).bind(id).fetch_optional(pool).await?)
}

/// Records what a writer stored: the parts so far, and the bytes after them.
pub async fn save_progress(pool: &PgPool, id: Uuid, parts: &[Part], tail: &[u8]) -> Result<(), MediaError> {
    let received: u64 = parts.iter().map(|part| part.size).sum::<u64>() + tail.len() as u64;
    sqlx::query(
        "UPDATE media.uploads SET parts = $2, tail = $3, received = $4, updated_at = now()
         WHERE id = $1 AND state = 'receiving'",
    )
    .bind(id)
    .bind(Json(parts))
    .bind(tail)
    .bind(signed(received))
    .execute(pool)
    .await?;
    Ok(())
}

/// Hands out part numbers up to `last` (the holder of the write lock does, for parts
/// another process sends to the store).
pub async fn issue_part_numbers(pool: &PgPool, id: Uuid, last: i32) -> Result<(), MediaError> {
    sqlx::query("UPDATE media.uploads SET parts_issued = greatest(parts_issued, $2) WHERE id = $1")
        .bind(id)
        .bind(last)
        .execute(pool)
        .await?;
    Ok(())
}

/// The object is in place: the parts are the whole upload, whose length is now known.
pub async fn mark_stored(pool: &PgPool, id: Uuid, parts: &[Part]) -> Result<(), MediaError> {
    let received: u64 = parts.iter().map(|part| part.size).sum();
    sqlx::query(
        "UPDATE media.uploads SET parts = $2, tail = '', received = $3, length = $3, state = 'stored',
                updated_at = now()
         WHERE id = $1 AND state = 'receiving'",
    )
    .bind(id)
    .bind(Json(parts))
    .bind(signed(received))
    .execute(pool)
    .await?;
    Ok(())
}

/// The source was probed and its asset and job made (in `tx`, with them).
pub async fn mark_complete(tx: &mut PgConnection, id: Uuid, job_id: Uuid) -> Result<(), MediaError> {
    sqlx::query("UPDATE media.uploads SET state = 'complete', job_id = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub async fn delete(pool: &PgPool, id: Uuid) -> Result<(), MediaError> {
    sqlx::query("DELETE FROM media.uploads WHERE id = $1").bind(id).execute(pool).await?;
    Ok(())
}

/// Uploads whose finish did not happen (stored, untouched for `stalled_secs`): the sweep
/// finishes them, for clients that never ask again (at most `limit`).
pub async fn stalled(pool: &PgPool, stalled_secs: i64, limit: i64) -> Result<Vec<Uuid>, MediaError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM media.uploads
         WHERE state = 'stored' AND updated_at < now() - make_interval(secs => $1) AND expires_at > now()
         ORDER BY updated_at LIMIT $2",
    )
    .bind(stalled_secs as f64)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Uploads past their expiry, oldest first (at most `limit`).
pub async fn expired(pool: &PgPool, limit: i64) -> Result<Vec<Uuid>, MediaError> {
    Ok(sqlx::query_scalar("SELECT id FROM media.uploads WHERE expires_at <= now() ORDER BY expires_at LIMIT $1")
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

/// Whether a row holds this store upload id (the sweep leaves those to their rows).
pub async fn multipart_known(pool: &PgPool, multipart_id: &str) -> Result<bool, MediaError> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM media.uploads WHERE multipart_id = $1)")
        .bind(multipart_id)
        .fetch_one(pool)
        .await?)
}
