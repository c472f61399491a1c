//! How an attempt that did not end ready ends: the failure policy. Bad media fails the
//! job at once; anything that may pass (storage, the database, a stall, a crash) is
//! retried with backoff until the attempts run out; a lost lease leaves the job to
//! whoever holds it now. Whatever the end, this attempt's objects go.

use ottr_proto::media::v1::{JobEvent, Phase};
use ottr_runtime::{ErrorCode, service_error::chain};
use ottr_storage::{StorageError, keys::AssetKeys};

use super::Context;
use crate::{
    MediaError,
    error::rejection_code,
    probe::{ProbeError, Rejection},
    process::ProcessError,
    store::{
        assets,
        jobs::{self, Claim, Outcome},
    },
};

/// How an attempt ended, when it did not end ready.
#[derive(Debug, thiserror::Error)]
pub(super) enum Stop {
    /// The source is not playable video: fail at once, no retry.
    #[error("{0}")]
    Rejected(Rejection),
    /// ffmpeg could not decode what probed fine: bad media too.
    #[error("ffmpeg could not transcode the source")]
    BadMedia(#[source] ProcessError),
    /// ffmpeg gave up on the source with an exit code while transcoding.
    #[error("ffmpeg could not transcode the source: it exited with {status}; stderr ends: {stderr_tail}")]
    Exited { status: String, stderr_tail: String },
    /// Every attempt was used (the last worker died holding it).
    #[error("gave up after {0} attempts")]
    GaveUp(i32),
    /// The lease was lost or the job cancelled: someone else owns what happens next.
    #[error("the job is no longer held by this attempt")]
    Lost,
    /// Anything that may pass.
    #[error(transparent)]
    Retry(#[from] Fault),
}

/// A failure that may pass, with its cause.
#[derive(Debug, thiserror::Error)]
pub(super) enum Fault {
    #[error("storage")]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("local I/O")]
    Io(#[from] std::io::Error),
    #[error("running ffmpeg")]
    Process(#[from] ProcessError),
    #[error("ffmpeg made no progress for {0} s and was killed")]
    Stalled(u64),
    #[error("the transcode ran past its {0} s cap and was killed")]
    OverCap(u64),
    #[error("ffmpeg was killed ({status}); stderr ends: {stderr_tail}")]
    Killed { status: String, stderr_tail: String },
    #[error("{0} is missing from storage after upload")]
    Missing(String),
}

macro_rules! retry_from {
    ($($from:ty),+) => {$(
        impl From<$from> for Stop {
            fn from(error: $from) -> Self {
                Stop::Retry(error.into())
            }
        }
    )+};
}

retry_from!(StorageError, MediaError, std::io::Error);

impl From<ProbeError> for Stop {
    fn from(error: ProbeError) -> Self {
        match error {
            ProbeError::Rejected(rejection) => Stop::Rejected(rejection),
            ProbeError::NotRun(error) => Stop::Retry(Fault::Process(error)),
            // The worker probes a local copy; were it a URL, an unreachable store may pass.
            ProbeError::Unreachable(message) => Stop::Retry(Fault::Media(MediaError::SourceUnreachable(message))),
        }
    }
}

/// A run of ffmpeg on the source that failed: its verdict on the file is bad media; not
/// managing to run it may pass.
pub(super) fn ffmpeg_failed(error: ProcessError) -> Stop {
    match error {
        ProcessError::Failed { .. } => Stop::BadMedia(error),
        other => Stop::Retry(Fault::Process(other)),
    }
}

impl Stop {
    /// What the queue does next and the code the failure is recorded under; `None` when
    /// the job is no longer this attempt's to record.
    fn policy(&self, ctx: &Context, claim: &Claim) -> Option<(Outcome, ErrorCode)> {
        match self {
            Stop::Lost => None,
            Stop::Rejected(rejection) => Some((Outcome::Fail, rejection_code(rejection))),
            Stop::BadMedia(_) | Stop::Exited { .. } | Stop::GaveUp(_) => {
                Some((Outcome::Fail, ErrorCode::TranscodeFailed))
            }
            Stop::Retry(_) => {
                let backoff = ctx.settings.worker.retry_base_secs * (1 << (claim.attempt - 1).clamp(0, 6));
                Some((Outcome::Retry { after_secs: backoff }, ErrorCode::TranscodeFailed))
            }
        }
    }
}

/// Nothing of an attempt that did not end ready stays: its master is withdrawn first, so
/// no player is sent to it, then its objects are deleted.
pub async fn discard(ctx: &Context, claim: &Claim) {
    if let Err(error) = assets::withdraw(&ctx.pool, claim.asset_id, claim.attempt).await {
        tracing::warn!(error = %chain(&error), "could not withdraw a failed attempt's playlist");
    }
    for prefix in
        [AssetKeys::new(claim.asset_id).hls(claim.attempt), AssetKeys::new(claim.asset_id).images(claim.attempt)]
    {
        if let Err(error) = ctx.store.delete_prefix(&prefix).await {
            tracing::warn!(error = %chain(&error), %prefix, "could not remove a failed attempt's objects");
        }
    }
}

/// Cleans up after `stop` and records it, retrying or failing the job by the policy.
pub(super) async fn finish_with(ctx: &Context, claim: &Claim, stop: Stop) {
    discard(ctx, claim).await;
    let Some((outcome, code)) = stop.policy(ctx, claim) else {
        tracing::info!(job_id = %claim.job_id, attempt = claim.attempt, "attempt stopped: job no longer held");
        return;
    };
    let code = code.as_str();
    // The whole chain: editors read it on the failed job, with ffmpeg's stderr tail.
    let message = chain(&stop);
    tracing::warn!(job_id = %claim.job_id, attempt = claim.attempt, %code, %message, "attempt failed");
    match jobs::fail(&ctx.pool, claim, outcome, code, &message).await {
        Ok(failed_for_good) => {
            let event = JobEvent {
                phase: if failed_for_good { Phase::Failed } else { Phase::Queued } as i32,
                error_code: code.to_owned(),
                error_message: message,
                ..JobEvent::from(claim)
            };
            let _ = ctx.events.publish(event, None).await;
        }
        Err(error) => {
            tracing::error!(error = %chain(&error), "could not record a failed attempt; its lease will expire")
        }
    }
}

/// Called when a claim arrives with its attempts used up (its last worker died).
pub async fn give_up(ctx: &Context, claim: Claim) {
    finish_with(ctx, &claim, Stop::GaveUp(claim.max_attempts)).await;
}
