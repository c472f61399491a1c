//! One attempt at one job, from the claimed source to a ready asset: the steps
//! ([`attempt`]), the supervision of the ffmpeg run (watchdog, heartbeats, progress and
//! uploads while it runs: [`supervise`]) and what happens when it does not end ready
//! ([`outcome`]).

mod attempt;
mod outcome;
mod supervise;

use std::{path::PathBuf, sync::Arc};

use ottr_storage::ObjectStore;

use crate::{MediaSettings, events::Events, store::jobs::Claim};

pub use outcome::{discard, give_up};

/// What the pipeline needs, shared by every worker of the process.
#[derive(Clone)]
pub struct Context {
    pub pool: sqlx::PgPool,
    pub store: ObjectStore,
    pub events: Events,
    pub settings: Arc<MediaSettings>,
    /// Upload requests writing at once in this process (`uploads.max_writers`); each
    /// holds a PostgreSQL connection of its own for its lock, taken from `write_locks`.
    pub upload_writers: Arc<tokio::sync::Semaphore>,
    pub write_locks: Arc<crate::store::write_lock::WriteLocks>,
}

/// The work folder of one attempt, removed on every path (drop included).
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `claim` to its end and records the outcome.
pub async fn run(ctx: &Context, claim: Claim) {
    use tracing::Instrument;
    let span = tracing::info_span!("job", job_id = %claim.job_id, attempt = claim.attempt);
    let ended = attempt::Attempt::new(ctx, &claim).run().instrument(span).await;
    if let Err(stop) = ended {
        outcome::finish_with(ctx, &claim, stop).await;
    }
}
