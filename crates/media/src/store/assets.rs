//! The assets the queue works on: recorded with their job, read for the API, and moved
//! between states in the same transactions as their job.

use ottr_storage::keys::AssetKeys;

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    jobs::{Finished, JobState},
    text_state,
};
use crate::{
    MediaError,
    probe::SourceInfo,
    transcode::{ladder::Rung, tracks::Tracks},
};

text_state! {
    /// Where an asset is: processing until its job ends ready, failed or cancelled.
    AssetState { Processing => "processing", Ready => "ready", Failed => "failed", Cancelled => "cancelled" }
}

/// The columns of [`AssetRow`], from `media.assets a JOIN media.jobs j`.
macro_rules! asset_columns {
    () => {
        "a.id, a.filename, a.state, a.source, a.renditions, a.tracks, a.master_key, a.poster_key, a.storyboard_key,
         a.download_key, a.download_bytes, a.error_code, a.error_message, a.created_at, a.ready_at, a.created_by, j.id AS job_id, j.state AS job_state,
         j.progress AS job_progress, j.sequence AS job_sequence"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AssetRow {
    pub id: Uuid,
    pub filename: String,
    pub state: AssetState,
    pub source: sqlx::types::Json<SourceInfo>,
    pub renditions: sqlx::types::Json<Vec<Rung>>,
    pub tracks: sqlx::types::Json<Tracks>,
    pub master_key: Option<String>,
    pub poster_key: Option<String>,
    pub storyboard_key: Option<String>,
    pub download_key: Option<String>,
    pub download_bytes: Option<i64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: OffsetDateTime,
    pub ready_at: Option<OffsetDateTime>,
    pub created_by: Option<Uuid>,
    pub job_id: Uuid,
    pub job_state: JobState,
    /// The latest progress event, as stored (a protobuf `JobEvent`).
    pub job_progress: Option<Vec<u8>>,
    pub job_sequence: i64,
}

/// What an upload recorded: the asset's source and who sent it.
pub struct NewAsset<'a> {
    pub id: Uuid,
    pub filename: &'a str,
    pub source_key: &'a str,
    pub source: &'a SourceInfo,
    pub created_by: Option<Uuid>,
}

/// Records the asset and queues its job in one transaction: there is never an asset
/// without a job, nor a job without its asset. Returns the job's id.
pub async fn create(pool: &PgPool, asset: &NewAsset<'_>, max_attempts: i32) -> Result<Uuid, MediaError> {
    let mut tx = pool.begin().await?;
    let job_id = insert(&mut tx, asset, max_attempts).await?;
    tx.commit().await?;
    Ok(job_id)
}

/// The asset and its job, in the caller's transaction (with whatever else must go with
/// them). Returns the job's id.
pub async fn insert(tx: &mut PgConnection, asset: &NewAsset<'_>, max_attempts: i32) -> Result<Uuid, MediaError> {
    sqlx::query("INSERT INTO media.assets (id, filename, source_key, source, created_by) VALUES ($1, $2, $3, $4, $5)")
        .bind(asset.id)
        .bind(asset.filename)
        .bind(asset.source_key)
        .bind(sqlx::types::Json(asset.source))
        .bind(asset.created_by)
        .execute(&mut *tx)
        .await?;
    let job_id = Uuid::new_v4();
    sqlx::query("INSERT INTO media.jobs (id, asset_id, max_attempts) VALUES ($1, $2, $3)")
        .bind(job_id)
        .bind(asset.id)
        .bind(max_attempts)
        .execute(&mut *tx)
        .await?;
    Ok(job_id)
}

pub async fn get(pool: &PgPool, asset_id: Uuid) -> Result<AssetRow, MediaError> {
    let query = concat!(
        "SELECT ",
        asset_columns!(),
        " FROM media.assets a JOIN media.jobs j ON j.asset_id = a.id WHERE a.id = $1"
    );
    sqlx::query_as(query).bind(asset_id).fetch_optional(pool).await?.ok_or(MediaError::NotFound("asset"))
}

/// Assets newest first, after `after` (created_at in microseconds, id), optionally in one state.
pub async fn list(
    pool: &PgPool,
    state: Option<AssetState>,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<AssetRow>, MediaError> {
    let query = concat!(
        "SELECT ",
        asset_columns!(),
        " FROM media.assets a JOIN media.jobs j ON j.asset_id = a.id
         WHERE ($1::text IS NULL OR a.state = $1)
           AND ($2::timestamptz IS NULL OR (a.created_at, a.id) < ($2, $3))
         ORDER BY a.created_at DESC, a.id DESC LIMIT $4"
    );
    Ok(sqlx::query_as(query)
        .bind(state.map(|s| s.as_str()))
        .bind(after.map(|(at, _)| at))
        .bind(after.map(|(_, id)| id))
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

/// Marks the asset playable: the master and the first segments of every rung are stored.
/// False when the attempt no longer holds the job.
pub async fn mark_playable(
    pool: &PgPool,
    claim: &super::jobs::Claim,
    master_key: &str,
    rungs: &[Rung],
    tracks: &Tracks,
) -> Result<bool, MediaError> {
    let mut tx = pool.begin().await?;
    let first = never_playable(&mut tx, claim.asset_id).await?;
    let updated = sqlx::query(
        "UPDATE media.assets a SET master_key = $3, renditions = $4, tracks = $5, playable_at = coalesce(playable_at, now())
         FROM media.jobs j
         WHERE a.id = j.asset_id AND j.id = $1 AND j.attempt = $2 AND j.state = 'running'",
    )
    .bind(claim.job_id)
    .bind(claim.attempt)
    .bind(master_key)
    .bind(sqlx::types::Json(rungs))
    .bind(sqlx::types::Json(tracks))
    .execute(&mut *tx)
    .await?;
    let marked = updated.rows_affected() == 1;
    if marked && first {
        crate::webhooks::events::asset(&mut tx, "asset.playable", claim.asset_id).await?;
    }
    tx.commit().await?;
    Ok(marked)
}

/// Whether the asset was never playable yet, its row locked until the transaction ends:
/// `asset.playable` is told once per asset, by whichever change makes it playable first.
pub(super) async fn never_playable(conn: &mut PgConnection, asset_id: Uuid) -> sqlx::Result<bool> {
    let never: Option<bool> =
        sqlx::query_scalar("SELECT playable_at IS NULL FROM media.assets WHERE id = $1 FOR UPDATE")
            .bind(asset_id)
            .fetch_optional(conn)
            .await?;
    Ok(never == Some(true))
}

/// Withdraws what an attempt made playable before its objects are deleted (it failed,
/// lost its lease or was handed back): players must not be sent to a master whose
/// segments are going away. A master of another attempt, or of a ready asset, stays.
pub async fn withdraw(pool: &PgPool, asset_id: Uuid, attempt: i32) -> Result<(), MediaError> {
    sqlx::query(
        "UPDATE media.assets SET master_key = NULL, renditions = '[]', tracks = '{}', playable_at = NULL
         WHERE id = $1 AND state <> 'ready' AND starts_with(master_key, $2)",
    )
    .bind(asset_id)
    .bind(AssetKeys::new(asset_id).hls(attempt))
    .execute(pool)
    .await?;
    Ok(())
}

/// The ready half of [`super::jobs::complete`], in its transaction.
pub(super) async fn mark_ready(conn: &mut PgConnection, asset_id: Uuid, done: &Finished<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE media.assets SET state = 'ready', master_key = $2, poster_key = $3, storyboard_key = $4, renditions = $5, tracks = $6,
            download_key = $7, download_bytes = $8, playable_at = coalesce(playable_at, now()), ready_at = now(), error_code = NULL, error_message = NULL
         WHERE id = $1",
    )
    .bind(asset_id)
    .bind(done.master_key)
    .bind(done.poster_key)
    .bind(done.storyboard_key)
    .bind(sqlx::types::Json(done.rungs))
    .bind(sqlx::types::Json(done.tracks))
    .bind(done.download.map(|(key, _)| key))
    .bind(done.download.map(|(_, bytes)| bytes as i64))
    .execute(conn)
    .await?;
    Ok(())
}

/// The failed half of [`super::jobs::fail`], in its transaction.
pub(super) async fn mark_failed(
    conn: &mut PgConnection,
    asset_id: Uuid,
    code: &str,
    message: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE media.assets SET state = 'failed', error_code = $2, error_message = $3 WHERE id = $1")
        .bind(asset_id)
        .bind(code)
        .bind(message)
        .execute(conn)
        .await?;
    Ok(())
}

/// The asset of a cancelled job, in the cancelling transaction.
pub(super) async fn mark_cancelled(conn: &mut PgConnection, job_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE media.assets SET state = 'cancelled' WHERE id = (SELECT asset_id FROM media.jobs WHERE id = $1)",
    )
    .bind(job_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The asset of a requeued job, processing again, in the requeuing transaction.
pub(super) async fn mark_processing(conn: &mut PgConnection, job_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE media.assets SET state = 'processing', error_code = NULL, error_message = NULL
         WHERE id = (SELECT asset_id FROM media.jobs WHERE id = $1)",
    )
    .bind(job_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the asset's rows (its job by cascade, and the finished upload that made it),
/// once its job is no longer queued or running; `NotFound` when there is no such asset.
pub async fn delete(pool: &PgPool, asset_id: Uuid) -> Result<(), MediaError> {
    let mut tx = pool.begin().await?;
    let state: Option<JobState> = sqlx::query_scalar("SELECT state FROM media.jobs WHERE asset_id = $1 FOR UPDATE")
        .bind(asset_id)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(state @ (JobState::Queued | JobState::Running)) = state {
        // The caller cancels first; a requeue that slipped in between is refused here.
        return Err(MediaError::JobState(state));
    }
    crate::webhooks::events::asset(&mut tx, "asset.deleted", asset_id).await?;
    sqlx::query("DELETE FROM media.uploads WHERE asset_id = $1").bind(asset_id).execute(&mut *tx).await?;
    let deleted = sqlx::query("DELETE FROM media.assets WHERE id = $1").bind(asset_id).execute(&mut *tx).await?;
    if deleted.rows_affected() == 0 {
        return Err(MediaError::NotFound("asset"));
    }
    tx.commit().await?;
    Ok(())
}
