//! Workers: each slot claims a job, runs it, and claims the next. Any number of processes
//! on any number of machines do this against the same queue. On shutdown a slot stops
//! its ffmpeg, removes its attempt's objects and hands the job back to the queue at once.

use std::time::Duration;

use tokio::{sync::watch, task::JoinSet};

use crate::{
    pipeline::{self, Context},
    store::jobs,
};

/// Starts the configured number of worker slots; they stop when `stop` turns true.
pub fn spawn(ctx: Context, stop: watch::Receiver<bool>) -> JoinSet<()> {
    let mut slots = JoinSet::new();
    let name = format!("{}-{}", hostname(), std::process::id());
    for slot in 0..ctx.settings.worker.effective_concurrency() {
        slots.spawn(run_slot(ctx.clone(), format!("{name}-{slot}"), stop.clone()));
    }
    slots
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "media".into())
}

async fn run_slot(ctx: Context, name: String, mut stop: watch::Receiver<bool>) {
    let idle = Duration::from_millis(ctx.settings.worker.poll_ms);
    loop {
        if *stop.borrow() {
            break;
        }
        let claim = match jobs::claim(&ctx.pool, &name, ctx.settings.worker.lease_secs).await {
            Ok(Some(claim)) => claim,
            Ok(None) => {
                let _ = tokio::time::timeout(idle, stop.changed()).await;
                continue;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot reach the queue; retrying");
                let _ = tokio::time::timeout(idle, stop.changed()).await;
                continue;
            }
        };
        tracing::info!(worker = %name, job_id = %claim.job_id, attempt = claim.attempt, "job claimed");
        if claim.exhausted() {
            pipeline::give_up(&ctx, claim).await;
            continue;
        }
        tokio::select! {
            () = pipeline::run(&ctx, claim.clone()) => {}
            _ = async { let _ = stop.wait_for(|stopping| *stopping).await; } => {
                // The attempt's future is dropped here, which kills its ffmpeg.
                pipeline::discard(&ctx, &claim).await;
                if let Err(error) = jobs::release(&ctx.pool, &claim).await {
                    tracing::warn!(%error, "could not hand the job back; its lease will expire");
                }
                tracing::info!(job_id = %claim.job_id, "stopping: job handed back to the queue");
            }
        }
    }
}
