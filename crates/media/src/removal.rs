//! Deleting an asset at once, with nothing left behind. Deletes are immediate, not soft:
//! an editor who deletes a film wants it gone from storage and from players now, and a
//! purge window would keep paying for bytes nobody can reach.
//!
//! The order makes a retry always possible: the job is cancelled (a worker stops at its
//! next heartbeat and removes its attempt's objects itself), then the objects go, then the
//! rows. Should storage fail in between, the asset is still there to delete again.

use uuid::Uuid;

use ottr_proto::media::v1 as pb;
use ottr_storage::keys::AssetKeys;

use crate::{
    MediaError,
    pipeline::Context,
    store::{assets, jobs},
};

/// Deletes the asset; returns how many stored objects went.
pub(crate) async fn delete_asset(ctx: &Context, asset_id: Uuid) -> Result<u64, MediaError> {
    let job_id = assets::get(&ctx.pool, asset_id).await?.job_id;
    match jobs::cancel(&ctx.pool, job_id).await {
        Ok(()) => {
            // Whoever watches the job learns it ended, before its row goes.
            let mut event = ctx.events.snapshot(job_id).await?;
            event.phase = pb::Phase::Cancelled as i32;
            ctx.events.publish(event, None).await?;
        }
        // Ready, failed or cancelled already: nothing runs.
        Err(MediaError::JobState(_)) => {}
        Err(error) => return Err(error),
    }
    let mut removed = 0;
    for prefix in AssetKeys::new(asset_id).every_root() {
        removed += ctx.store.delete_prefix(&prefix).await? as u64;
    }
    assets::delete(&ctx.pool, asset_id).await?;
    tracing::info!(%asset_id, removed, "asset deleted");
    Ok(removed)
}
