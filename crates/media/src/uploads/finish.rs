//! The end of an upload: the object is in the store; ffprobe reads it where it lies (the
//! local file, or a short-lived presigned URL under the same guards as any source), and
//! the asset, its job and the upload's completion are written in one transaction. A
//! source ffprobe refuses takes its object and its row with it: nothing resumes it. A store
//! that could not be reached leaves the upload stored, to be finished again (by the
//! client's next PATCH, or by the sweep).

use std::time::Duration;

use crate::{
    MediaError,
    pipeline::Context,
    probe::{self, ProbeError},
    store::{
        assets::{self, NewAsset},
        uploads::{self, UploadRow},
    },
};

pub(super) async fn finish(ctx: &Context, row: UploadRow) -> Result<UploadRow, MediaError> {
    let started = std::time::Instant::now();
    let ttl = Duration::from_secs(ctx.settings.uploads.probe_url_secs.max(60));
    let location = ctx.store.read_location(&row.source_key, ttl).await?;
    let mut info = match probe::probe_input(&location, ctx.settings.limits.probe_limits()).await {
        Ok(info) => info,
        Err(ProbeError::Rejected(rejection)) => {
            super::discard(ctx, &row).await?;
            return Err(rejection.into());
        }
        Err(error) => return Err(error.into()),
    };
    info.size_bytes = row.received.max(0) as u64;
    let asset = NewAsset {
        id: row.asset_id,
        filename: &row.filename,
        source_key: &row.source_key,
        source: &info,
        created_by: Some(row.owner),
    };
    let mut tx = ctx.pool.begin().await?;
    let job_id = assets::insert(&mut tx, &asset, ctx.settings.worker.max_attempts).await?;
    uploads::mark_complete(&mut tx, row.id, job_id).await?;
    tx.commit().await?;
    tracing::info!(
        upload_id = %row.id, asset_id = %row.asset_id, size = info.size_bytes,
        probed_secs = started.elapsed().as_secs_f64(), "upload stored, probed and queued"
    );
    uploads::get(&ctx.pool, row.id).await?.ok_or(MediaError::NotFound("upload"))
}
