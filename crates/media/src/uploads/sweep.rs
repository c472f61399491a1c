//! The sweep of abandoned uploads: every unfinished upload past its expiry has its store
//! upload aborted (its parts deleted) and its row removed; a finished one's row goes too
//! (its asset stays). Store uploads that no row names (a process died between beginning
//! one and writing its row) are aborted once they are older than the expiry. Expired
//! direct upload grants go as well.

use std::time::{Duration, SystemTime};

use ottr_storage::StorageError;

use crate::{
    MediaError,
    pipeline::Context,
    store::uploads::{self, WriteLock},
};

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub uploads: usize,
    pub orphans: usize,
}

/// Rows looked at per sweep; the next sweep takes the rest.
const BATCH: i64 = 500;

pub async fn sweep(ctx: &Context) -> Result<Swept, MediaError> {
    let mut swept = Swept::default();
    for row in uploads::expired(&ctx.pool, BATCH).await? {
        // A writer still at it (a request that began just before the expiry) goes first.
        let Some(_lock) = WriteLock::try_take(&ctx.pool, row.id).await? else { continue };
        super::discard(ctx, &row).await?;
        swept.uploads += 1;
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
