//! The durable transcode queue in PostgreSQL.
//!
//! A job is claimed with `FOR UPDATE SKIP LOCKED` (so any number of workers on any
//! number of machines share the queue), held by a lease that heartbeats renew, and
//! every write a worker makes names the attempt it holds: once a lease has expired and
//! another worker claimed the job, the first worker's writes match no row (fencing).

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::text_state;
use crate::{
    MediaError,
    probe::SourceInfo,
    transcode::{ladder::Rung, tracks::Tracks},
};

text_state! {
    /// Where a job is in its life.
    JobState { Queued => "queued", Running => "running", Ready => "ready", Failed => "failed", Cancelled => "cancelled" }
}

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

impl Claim {
    /// Claimed again after its last allowed attempt (that worker died): it fails now
    /// instead of running once more.
    pub fn exhausted(&self) -> bool {
        self.attempt > self.max_attempts
    }
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

/// What a finished attempt stored.
pub struct Finished<'a> {
    pub master_key: &'a str,
    pub poster_key: &'a str,
    pub storyboard_key: &'a str,
    pub rungs: &'a [Rung],
    pub tracks: &'a Tracks,
    /// The MP4 download's key and bytes, when one was made.
    pub download: Option<(&'a str, u64)>,
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
    // A short title can finish before it was ever marked playable: it becomes both now.
    let first_playable = super::assets::never_playable(&mut tx, claim.asset_id).await?;
    super::assets::mark_ready(&mut tx, claim.asset_id, done).await?;
    if first_playable {
        crate::webhooks::events::asset(&mut tx, "asset.playable", claim.asset_id).await?;
    }
    crate::webhooks::events::asset(&mut tx, "asset.ready", claim.asset_id).await?;
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
        super::assets::mark_failed(&mut tx, claim.asset_id, code, message).await?;
        crate::webhooks::events::asset(&mut tx, "asset.failed", claim.asset_id).await?;
    }
    tx.commit().await?;
    Ok(final_failure)
}

/// Locks the job row, refusing unless it is in one of `allowed`.
async fn lock_in_state(conn: &mut PgConnection, job_id: Uuid, allowed: &[JobState]) -> Result<(), MediaError> {
    let state: Option<JobState> = sqlx::query_scalar("SELECT state FROM media.jobs WHERE id = $1 FOR UPDATE")
        .bind(job_id)
        .fetch_optional(conn)
        .await?;
    match state {
        None => Err(MediaError::NotFound("job")),
        Some(state) if allowed.contains(&state) => Ok(()),
        Some(state) => Err(MediaError::JobState(state)),
    }
}

/// An editor's change of a job in one of `allowed`, in one transaction with the job's row
/// locked: `change` updates the job and then its asset.
async fn edit_in_state(
    pool: &PgPool,
    job_id: Uuid,
    allowed: &[JobState],
    change: impl AsyncFnOnce(&mut PgConnection) -> sqlx::Result<()>,
) -> Result<(), MediaError> {
    let mut tx = pool.begin().await?;
    lock_in_state(&mut tx, job_id, allowed).await?;
    change(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Cancels a queued or running job; a running worker sees it at its next heartbeat.
pub async fn cancel(pool: &PgPool, job_id: Uuid) -> Result<(), MediaError> {
    edit_in_state(pool, job_id, &[JobState::Queued, JobState::Running], async |tx| {
        sqlx::query("UPDATE media.jobs SET state = 'cancelled', lease_until = NULL, updated_at = now() WHERE id = $1")
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        super::assets::mark_cancelled(tx, job_id).await
    })
    .await
}

/// Puts a failed or cancelled job back in the queue with a fresh budget of attempts.
/// The attempt number keeps rising, so fencing still holds.
pub async fn requeue(pool: &PgPool, job_id: Uuid, budget: i32) -> Result<(), MediaError> {
    edit_in_state(pool, job_id, &[JobState::Failed, JobState::Cancelled], async |tx| {
        sqlx::query(
            "UPDATE media.jobs SET state = 'queued', max_attempts = attempt + $2, run_after = now(), error_code = NULL,
                error_message = NULL, updated_at = now()
             WHERE id = $1",
        )
        .bind(job_id)
        .bind(budget)
        .execute(&mut *tx)
        .await?;
        super::assets::mark_processing(tx, job_id).await
    })
    .await
}

/// A job's state, its latest stored progress event and that event's sequence number.
#[derive(Debug, sqlx::FromRow)]
pub struct Snapshot {
    pub state: JobState,
    pub progress: Option<Vec<u8>>,
    pub sequence: i64,
    pub asset_id: Uuid,
}

pub async fn snapshot(pool: &PgPool, job_id: Uuid) -> Result<Snapshot, MediaError> {
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
