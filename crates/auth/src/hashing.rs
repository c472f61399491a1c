//! A bound on argon2 work. Each hash holds 19 MiB and a core for tens of milliseconds, so
//! without a bound 200 simultaneous registrations took the process to 3.8 GB. Callers
//! beyond the bound queue for a permit up to a deadline, then get `server_busy` with a
//! retry-after instead of memory the host does not have.
//!
//! Bounding the work is not enough to bound memory with glibc's malloc: after the first
//! 19 MiB block is freed, glibc raises its mmap threshold above it, so later blocks come
//! from arenas that keep them resident (measured: +19 MiB of RSS per sequential
//! registration, 680 MiB after a flood with two hashes at a time). So large blocks are
//! pinned to mmap (given back on free), and the hashes run on the Hasher's own threads,
//! one per permit, rather than on tokio's growing blocking pool with an arena per thread.

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{
    AuthError,
    config::HashingSettings,
    domain::{Password, password},
};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    wait: Duration,
    jobs: mpsc::Sender<Job>,
}

/// `count` threads taking jobs from one queue; they end when every sender is dropped.
fn workers(count: usize) -> mpsc::Sender<Job> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for i in 0..count {
        let queue = queue.clone();
        let work = move || {
            loop {
                let next = queue.lock().map_err(drop).and_then(|q| q.recv().map_err(drop));
                let Ok(job) = next else { return };
                // A panicking job drops its answer channel (its caller sees an error); the
                // thread stays, so the pool never shrinks below its permits.
                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
            }
        };
        std::thread::Builder::new().name(format!("argon2-{i}")).spawn(work).expect("the OS can start a thread");
    }
    jobs
}

impl Hasher {
    pub fn new(settings: &HashingSettings) -> Self {
        ottr_runtime::memory::return_large_blocks_to_the_os();
        let bound = settings.max_concurrent.max(1);
        Self {
            permits: Arc::new(Semaphore::new(bound)),
            wait: Duration::from_millis(settings.queue_timeout_ms),
            jobs: workers(bound),
        }
    }

    /// Waits for a permit up to the deadline.
    async fn permit(&self) -> Result<OwnedSemaphorePermit, AuthError> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out (or closed, which never happens): the queue is longer than a caller
            // should wait. The deadline is about how long the queue takes to drain.
            _ => Err(AuthError::ServerBusy { retry_after_secs: self.wait.as_secs().max(1) }),
        }
    }

    /// Runs `work` on a hashing thread holding a permit. The permit moves into the job, so
    /// a caller that hangs up does not free it while argon2 still runs; with as many
    /// threads as permits, a job never waits for a thread.
    async fn bounded<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let permit = self.permit().await?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let result = work();
            drop(permit);
            let _ = answer.send(result);
        });
        self.jobs.send(job).map_err(|_| AuthError::HashersStopped)?;
        answered.await.map_err(AuthError::HashingUnanswered)?
    }

    pub async fn hash(&self, candidate: Password) -> Result<String, AuthError> {
        self.bounded(move || password::hash_now(&candidate)).await
    }

    /// See [`password::verify_now`]: the dummy hash is verified (and bounded) like a real one.
    pub async fn verify(&self, candidate: &str, stored: Option<String>) -> Result<bool, AuthError> {
        let candidate = candidate.to_owned();
        self.bounded(move || password::verify_now(&candidate, stored.as_deref())).await
    }

    /// Permits free right now, for tests and metrics.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_beyond_the_bound_waits_then_is_refused_with_a_retry_after() {
        let hasher = Hasher::new(&HashingSettings { max_concurrent: 1, queue_timeout_ms: 50 });
        let held = hasher.permits.clone().acquire_owned().await.unwrap();
        let refused = hasher.verify("anything at all", None).await.unwrap_err();
        assert!(matches!(refused, AuthError::ServerBusy { retry_after_secs: 1 }), "{refused:?}");
        drop(held);
        assert!(!hasher.verify("anything at all", None).await.unwrap());
        assert_eq!(hasher.available(), 1, "the permit comes back after the work");
    }

    #[tokio::test]
    async fn a_waiting_caller_gets_the_permit_when_it_frees_before_the_deadline() {
        let hasher = Hasher::new(&HashingSettings { max_concurrent: 1, queue_timeout_ms: 5_000 });
        let held = hasher.permits.clone().acquire_owned().await.unwrap();
        let waiting = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.hash(Password::parse("correct horse").unwrap()).await }
        });
        tokio::task::yield_now().await;
        assert_eq!(hasher.available(), 0);
        drop(held);
        let hash = waiting.await.unwrap().unwrap();
        assert!(hash.starts_with("$argon2id$"));
    }
}
