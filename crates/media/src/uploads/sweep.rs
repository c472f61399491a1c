//! The sweep of abandoned uploads: every unfinished upload past its expiry has its store
//! upload aborted (its parts deleted) and its row removed; a finished one's row goes too
//! (its asset stays). A stored upload whose finish was lost (its process died between
//! completing the object and recording the asset) is finished. Store uploads that no row names (a process died between beginning
//! one and writing its row) are aborted once they are older than the expiry. Expired
//! direct upload grants go as well.

use std::time::{Duration, SystemTime};

use ottr_storage::StorageError;

use crate::{
    MediaError,
    pipeline::Context,
    store::uploads::{self, UploadRow, UploadState, WriteLock},
};

use ottr_runtime::service_error::chain;

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub uploads: usize,
    pub orphans: usize,
    /// Stored uploads whose lost finish was done.
    pub finished: usize,
}

/// Rows looked at per sweep; the next sweep takes the rest.
const BATCH: i64 = 500;

/// A stored upload untouched this long lost its finish (the process died in it).
const STALLED_SECS: i64 = 120;

/// Aborts and forgets one expired upload, unless a writer holds it or it changed since it
/// was listed (finished by a late retry).
async fn sweep_one(ctx: &Context, id: uuid::Uuid) -> Result<bool, MediaError> {
    let Some(lock) = WriteLock::try_take(&ctx.write_locks, id).await? else { return Ok(false) };
    let row = uploads::get(&ctx.pool, id).await?.filter(UploadRow::expired);
    let done = match row {
        Some(row) => super::discard(ctx, &row).await.map(|()| true),
        None => Ok(false),
    };
    lock.release().await;
    done
}

/// Finishes one stored upload whose finish was lost, under its lock.
async fn finish_stalled(ctx: &Context, id: uuid::Uuid) -> Result<bool, MediaError> {
    let Some(lock) = WriteLock::try_take(&ctx.write_locks, id).await? else { return Ok(false) };
    let row = uploads::get(&ctx.pool, id).await?.filter(|row| row.state == UploadState::Stored);
    let done = match row {
        Some(row) => super::finish::finish(ctx, row).await.map(|_| true),
        None => Ok(false),
    };
    lock.release().await;
    done
}

pub async fn sweep(ctx: &Context) -> Result<Swept, MediaError> {
    let mut swept = Swept::default();
    for id in uploads::expired(&ctx.pool, BATCH).await? {
        match sweep_one(ctx, id).await {
            Ok(done) => swept.uploads += usize::from(done),
            // One that fails (the store away) is tried again next time; the rest go on.
            Err(error) => tracing::warn!(upload_id = %id, error = %chain(&error), "sweeping an upload failed"),
        }
    }
    for id in uploads::stalled(&ctx.pool, STALLED_SECS, BATCH).await? {
        match finish_stalled(ctx, id).await {
            Ok(done) => swept.finished += usize::from(done),
            Err(error) => tracing::warn!(upload_id = %id, error = %chain(&error), "finishing an upload failed"),
        }
    }
    let expiry = Duration::from_secs(ctx.settings.uploads.expiry_secs);
    let cutoff = SystemTime::now().checked_sub(expiry).unwrap_or(SystemTime::UNIX_EPOCH);
    let pending = match ctx.store.pending_uploads("sources/").await {
        Ok(pending) => pending,
        // Orphans cannot be found on this server; the rows' uploads were aborted above.
        Err(StorageError::Unsupported(call)) => {
            tracing::debug!(call, "the store cannot list multipart uploads; orphans are not looked for");
            Vec::new()
        }
        Err(error) => return Err(error.into()),
    };
    for pending in pending {
        let old = pending.started.is_some_and(|started| started < cutoff);
        if old && !uploads::multipart_known(&ctx.pool, &pending.upload_id).await? {
            ctx.store.abort_upload(&pending.key, &pending.upload_id).await?;
            swept.orphans += 1;
        }
    }
    sqlx::query("DELETE FROM media.direct_uploads WHERE expires_at <= now()").execute(&ctx.pool).await?;
    Ok(swept)
}

/// Sweeps every `sweep_secs` until `stop` says so.
pub(crate) fn spawn(ctx: Context, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(ctx.settings.uploads.sweep_secs.max(1));
        loop {
            match sweep(&ctx).await {
                Ok(swept) if swept != Swept::default() => tracing::info!(?swept, "expired uploads swept"),
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %ottr_runtime::service_error::chain(&error), "upload sweep failed")
                }
            }
            if tokio::time::timeout(every, stop.changed()).await.is_ok() {
                return;
            }
        }
    })
}
