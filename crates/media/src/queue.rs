//! The durable transcode queue in PostgreSQL, and the assets it works on.
//!
//! A job is claimed with `FOR UPDATE SKIP LOCKED` (so any number of workers on any
//! number of machines share the queue), held by a lease that heartbeats renew, and
//! every write a worker makes names the attempt it holds: once a lease has expired and
//! another worker claimed the job, the first worker's writes match no row (fencing).

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use ottr_storage::keys::AssetKeys;

use crate::{MediaError, probe::SourceInfo, transcode::ladder::Rung};

/// A job a worker holds.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Claim {
    pub job_id: Uuid,
    pub asset_id: Uuid,
    pub attempt: i32,
    pub max_attempts: i32,
    pub source_key: String,
    pub source: sqlx::types::Json<SourceInfo>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AssetRow {
    pub id: Uuid,
    pub filename: String,
    pub state: String,
    pub source: sqlx::types::Json<SourceInfo>,
    pub renditions: sqlx::types::Json<Vec<Rung>>,
    pub master_key: Option<String>,
    pub poster_key: Option<String>,
    pub storyboard_key: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: OffsetDateTime,
    pub ready_at: Option<OffsetDateTime>,
    pub job_id: Uuid,
}

/// Records the asset and queues its job in one transaction: there is never an asset
/// without a job, nor a job without its asset.
pub async fn create(
    pool: &PgPool,
    asset_id: Uuid,
    filename: &str,
    source_key: &str,
    source: &SourceInfo,
    created_by: Option<Uuid>,
    max_attempts: i32,
) -> Result<Uuid, MediaError> {
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO media.assets (id, filename, source_key, source, created_by) VALUES ($1, $2, $3, $4, $5)")
        .bind(asset_id)
        .bind(filename)
        .bind(source_key)
        .bind(sqlx::types::Json(source))
        .bind(created_by)
        .execute(&mut *tx)
        .await?;
    let job_id = Uuid::new_v4();
    sqlx::query("INSERT INTO media.jobs (id, asset_id, max_attempts) VALUES ($1, $2, $3)")
        .bind(job_id)
        .bind(asset_id)
        .bind(max_attempts)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(job_id)
}

/// Takes the next job that is due, or whose holder's lease ran out.
pub async fn claim(pool: &PgPool, worker: &str, lease_secs: i64) -> Result<Option<Claim>, MediaError> {
    let claim = sqlx::query_as(
        "WITH next AS (
            SELECT id FROM media.jobs
            WHERE (state = 'queued' AND run_after <= now()) OR (state = 'running' AND lease_until < now())
            ORDER BY run_after
            LIMIT 1
            FOR UPDATE SKIP LOCKED
         )
         UPDATE media.jobs j
            SET state = 'running', attempt = j.attempt + 1, lease_until = now() + make_interval(secs => $2),
                worker = $1, updated_at = now()
         FROM next, media.assets a
         WHERE j.id = next.id AND a.id = j.asset_id
         RETURNING j.id AS job_id, j.asset_id, j.attempt, j.max_attempts, a.source_key, a.source",
    )
    .bind(worker)
    .bind(lease_secs as f64)
    .fetch_optional(pool)
    .await?;
    Ok(claim)
}

/// Extends the lease. False when the job is no longer ours (lease lost, cancelled).
pub async fn heartbeat(pool: &PgPool, claim: &Claim, lease_secs: i64) -> Result<bool, MediaError> {
    let renewed = sqlx::query(
        "UPDATE media.jobs SET lease_until = now() + make_interval(secs => $3), updated_at = now()
         WHERE id = $1 AND attempt = $2 AND state = 'running'",
    )
    .bind(claim.job_id)
    .bind(claim.attempt)
    .bind(lease_secs as f64)
    .execute(pool)
    .await?;
    Ok(renewed.rows_affected() == 1)
}

/// Whether the attempt still holds the job: a cheap check before each irreversible step.
pub async fn still_holds(conn: &mut PgConnection, claim: &Claim) -> Result<bool, MediaError> {
    let holds: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM media.jobs WHERE id = $1 AND attempt = $2 AND state = 'running')",
    )
    .bind(claim.job_id)
    .bind(claim.attempt)
    .fetch_one(conn)
    .await?;
    Ok(holds)
}

/// Marks the asset playable: the master and the first segments of every rung are stored.
pub async fn mark_playable(pool: &PgPool, claim: &Claim, master_key: &str, rungs: &[Rung]) -> Result<bool, MediaError> {
    let updated = sqlx::query(
        "UPDATE media.assets a SET master_key = $3, renditions = $4, playable_at = coalesce(playable_at, now())
         FROM media.jobs j
         WHERE a.id = j.asset_id AND j.id = $1 AND j.attempt = $2 AND j.state = 'running'",
    )
    .bind(claim.job_id)
    .bind(claim.attempt)
    .bind(master_key)
    .bind(sqlx::types::Json(rungs))
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Withdraws what an attempt made playable before its objects are deleted (it failed,
/// lost its lease or was handed back): players must not be sent to a master whose
/// segments are going away. A master of another attempt, or of a ready asset, stays.
pub async fn withdraw(pool: &PgPool, asset_id: Uuid, attempt: i32) -> Result<(), MediaError> {
    sqlx::query(
        "UPDATE media.assets SET master_key = NULL, renditions = '[]', playable_at = NULL
         WHERE id = $1 AND state <> 'ready' AND starts_with(master_key, $2)",
    )
    .bind(asset_id)
    .bind(AssetKeys::new(asset_id).hls(attempt))
    .execute(pool)
    .await?;
    Ok(())
}

/// What a finished attempt stored.
pub struct Finished<'a> {
    pub master_key: &'a str,
    pub poster_key: &'a str,
    pub storyboard_key: &'a str,
    pub rungs: &'a [Rung],
}

/// Job and asset become ready together, or not at all; false when the attempt was fenced off.
pub async fn complete(pool: &PgPool, claim: &Claim, done: &Finished<'_>) -> Result<bool, MediaError> {
    let mut tx = pool.begin().await?;
    let job = sqlx::query(
        "UPDATE media.jobs SET state = 'ready', lease_until = NULL, error_code = NULL, error_message = NULL, updated_at = now()
         WHERE id = $1 AND attempt = $2 AND state = 'running'",
    )
    .bind(claim.job_id)
    .bind(claim.attempt)
    .execute(&mut *tx)
    .await?;
    if job.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE media.assets SET state = 'ready', master_key = $2, poster_key = $3, storyboard_key = $4, renditions = $5,
            playable_at = coalesce(playable_at, now()), ready_at = now(), error_code = NULL, error_message = NULL
         WHERE id = $1",
    )
    .bind(claim.asset_id)
    .bind(done.master_key)
    .bind(done.poster_key)
    .bind(done.storyboard_key)
    .bind(sqlx::types::Json(done.rungs))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// How a failed attempt ends: retried later, or failed for good.
pub enum Outcome {
    Retry { after_secs: i64 },
    Fail,
}

/// Records a failure of this attempt; returns whether the job failed for good.
pub async fn fail(
    pool: &PgPool,
    claim: &Claim,
    outcome: Outcome,
    code: &str,
    message: &str,
) -> Result<bool, MediaError> {
    let final_failure = matches!(outcome, Outcome::Fail) || claim.attempt >= claim.max_attempts;
    let mut tx = pool.begin().await?;
    let job = if final_failure {
        sqlx::query(
            "UPDATE media.jobs SET state = 'failed', lease_until = NULL, error_code = $3, error_message = $4, updated_at = now()
             WHERE id = $1 AND attempt = $2 AND state = 'running'",
        )
    } else {
        sqlx::query(
            "UPDATE media.jobs SET state = 'queued', lease_until = NULL, error_code = $3, error_message = $4,
                run_after = now() + make_interval(secs => $5), updated_at = now()
             WHERE id = $1 AND attempt = $2 AND state = 'running'",
        )
    }
    .bind(claim.job_id)
    .bind(claim.attempt)
    .bind(code)
    .bind(message)
    .bind(match outcome {
        Outcome::Retry { after_secs } => after_secs as f64,
        Outcome::Fail => 0.0,
    })
    .execute(&mut *tx)
    .await?;
    if job.rows_affected() == 1 && final_failure {
        sqlx::query("UPDATE media.assets SET state = 'failed', error_code = $2, error_message = $3 WHERE id = $1")
            .bind(claim.asset_id)
            .bind(code)
            .bind(message)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(final_failure)
}

impl Claim {
    /// Claimed again after its last allowed attempt (that worker died): it fails now
    /// instead of running once more.
    pub fn exhausted(&self) -> bool {
        self.attempt > self.max_attempts
    }
}

/// Locks the job row, refusing unless it is in one of `allowed`.
async fn lock_in_state(conn: &mut PgConnection, job_id: Uuid, allowed: &[&str]) -> Result<(), MediaError> {
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM media.jobs WHERE id = $1 FOR UPDATE")
        .bind(job_id)
        .fetch_optional(conn)
        .await?;
    match state {
        None => Err(MediaError::NotFound("job")),
        Some(state) if allowed.contains(&state.as_str()) => Ok(()),
        Some(state) => Err(MediaError::JobState(state)),
    }
}

/// Cancels a queued or running job; a running worker sees it at its next heartbeat.
pub async fn cancel(pool: &PgPool, job_id: Uuid) -> Result<(), MediaError> {
    let mut tx = pool.begin().await?;
    lock_in_state(&mut tx, job_id, &["queued", "running"]).await?;
    sqlx::query("UPDATE media.jobs SET state = 'cancelled', lease_until = NULL, updated_at = now() WHERE id = $1")
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE media.assets SET state = 'cancelled' WHERE id = (SELECT asset_id FROM media.jobs WHERE id = $1)",
    )
    .bind(job_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Puts a failed or cancelled job back in the queue with a fresh budget of attempts.
/// The attempt number keeps rising, so fencing still holds.
pub async fn requeue(pool: &PgPool, job_id: Uuid, budget: i32) -> Result<(), MediaError> {
    let mut tx = pool.begin().await?;
    lock_in_state(&mut tx, job_id, &["failed", "cancelled"]).await?;
    sqlx::query(
        "UPDATE media.jobs SET state = 'queued', max_attempts = attempt + $2, run_after = now(), error_code = NULL,
            error_message = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(job_id)
    .bind(budget)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE media.assets SET state = 'processing', error_code = NULL, error_message = NULL
         WHERE id = (SELECT asset_id FROM media.jobs WHERE id = $1)",
    )
    .bind(job_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn asset(pool: &PgPool, asset_id: Uuid) -> Result<AssetRow, MediaError> {
    sqlx::query_as(
        "SELECT a.id, a.filename, a.state, a.source, a.renditions, a.master_key, a.poster_key, a.storyboard_key,
                a.error_code, a.error_message, a.created_at, a.ready_at, j.id AS job_id
         FROM media.assets a JOIN media.jobs j ON j.asset_id = a.id WHERE a.id = $1",
    )
    .bind(asset_id)
    .fetch_optional(pool)
    .await?
    .ok_or(MediaError::NotFound("asset"))
}

/// The job's state, latest progress event and its sequence number.
pub async fn job_snapshot(pool: &PgPool, job_id: Uuid) -> Result<(String, Option<Vec<u8>>, i64, Uuid), MediaError> {
    sqlx::query_as("SELECT state, progress, sequence, asset_id FROM media.jobs WHERE id = $1")
        .bind(job_id)
        .fetch_optional(pool)
        .await?
        .ok_or(MediaError::NotFound("job"))
}

/// Stores a progress event of the attempt that holds the job; returns its sequence
/// number, or `None` when fenced off. Terminal events are stored whatever the state,
/// after the state change they describe.
pub async fn record_progress(
    pool: &PgPool,
    job_id: Uuid,
    attempt: Option<i32>,
    event: &[u8],
) -> Result<Option<i64>, MediaError> {
    let sequence = sqlx::query_scalar(
        "UPDATE media.jobs SET progress = $3, sequence = sequence + 1
         WHERE id = $1 AND ($2::int IS NULL OR (attempt = $2 AND state = 'running'))
         RETURNING sequence",
    )
    .bind(job_id)
    .bind(attempt)
    .bind(event)
    .fetch_optional(pool)
    .await?;
    Ok(sequence)
}

/// Gives a held job back to the queue at once (this process is stopping): another worker
/// takes it without waiting for the lease to run out.
pub async fn release(pool: &PgPool, claim: &Claim) -> Result<(), MediaError> {
    sqlx::query(
        "UPDATE media.jobs SET state = 'queued', lease_until = NULL, run_after = now(), updated_at = now()
         WHERE id = $1 AND attempt = $2 AND state = 'running'",
    )
    .bind(claim.job_id)
    .bind(claim.attempt)
    .execute(pool)
    .await?;
    Ok(())
}
