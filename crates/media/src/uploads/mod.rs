//! Resumable uploads whose bytes go straight into the object store. An upload is a row in
//! `media.uploads` (its whole state, so any media instance behind any edge carries on what
//! another started) and a multipart upload in the store: each request's bytes are cut
//! into parts and sent as they arrive ([`writer`]); the last byte completes the object,
//! which ffprobe reads where it lies, and the asset and its job are recorded with the
//! upload's completion in one transaction ([`finish`]). Unfinished uploads expire and a
//! sweep aborts their parts ([`sweep`]). A direct upload lets a client without the
//! editor's token create one upload ([`direct`]). A caller that holds the bytes (the edge)
//! may send whole parts to the store itself, by presigned URL ([`presigned`]).

mod access;
pub mod direct;
mod finish;
mod parts;
pub(crate) mod presigned;
pub mod sweep;
mod writer;

use time::OffsetDateTime;
use uuid::Uuid;

use ottr_storage::keys::AssetKeys;

use crate::{
    MediaError,
    pipeline::Context,
    probe::Rejection,
    store::uploads::{self, NewUpload, UploadRow, UploadState, WriteLock},
};

pub(crate) use access::{Access, find};
pub(crate) use writer::{Checksum, Request, append};

/// Who creates an upload: an editor by token, or the holder of a direct upload's token.
pub(crate) enum Creator {
    Staff(Uuid),
    Direct(String),
}

/// A new upload's row, and the key its client presents when it came through a direct
/// upload (shown once; only its hash is kept).
pub(crate) async fn create(
    ctx: &Context,
    creator: Creator,
    length: Option<u64>,
    filename: &str,
) -> Result<(UploadRow, Option<String>), MediaError> {
    let limit = ctx.settings.limits.max_upload_bytes;
    match length {
        Some(0) => return Err(Rejection::ZeroDuration.into()),
        Some(length) if length > limit => return Err(MediaError::TooLarge(limit)),
        _ => {}
    }
    let id = Uuid::new_v4();
    let mut tx = ctx.pool.begin().await?;
    let (owner, key) = match creator {
        Creator::Staff(owner) => (owner, None),
        Creator::Direct(token) => {
            let owner = direct::redeem(&mut tx, &token, length, id).await?;
            (owner, Some(direct::new_secret()))
        }
    };
    let quota = ctx.settings.uploads.quota_bytes;
    let in_flight = uploads::declared_in_flight(&mut tx, owner).await?;
    if in_flight.saturating_add(length.unwrap_or(0)) > quota {
        return Err(MediaError::QuotaExceeded { quota });
    }
    let asset_id = Uuid::new_v4();
    let filename: String = filename.chars().filter(|c| !c.is_control()).take(255).collect();
    let extension = std::path::Path::new(&filename).extension().and_then(|e| e.to_str()).unwrap_or("");
    let source_key = AssetKeys::new(asset_id).source(extension);
    // Begun before the row is written: if the row then fails, the sweep finds the store's
    // upload with no row once it is older than the expiry, and aborts it.
    let multipart_id = ctx.store.begin_upload(&source_key).await?;
    let expires_at = OffsetDateTime::now_utc() + time::Duration::seconds(secs(ctx.settings.uploads.expiry_secs));
    let key_hash = key.as_deref().map(direct::hash);
    let upload = NewUpload {
        id,
        owner,
        filename: &filename,
        length,
        asset_id,
        source_key: &source_key,
        multipart_id: &multipart_id,
        key_hash: key_hash.as_deref(),
        expires_at,
    };
    uploads::insert(&mut tx, &upload).await?;
    tx.commit().await?;
    let row = uploads::get(&ctx.pool, id).await?.ok_or(MediaError::NotFound("upload"))?;
    Ok((row, key))
}

/// Termination: the parts are dropped and the row forgotten. A finished upload's asset
/// stays; only the record of its upload goes.
pub(crate) async fn delete(ctx: &Context, access: &Access, id: Uuid) -> Result<UploadRow, MediaError> {
    find(ctx, access, id).await?;
    let Some(lock) = WriteLock::try_take(&ctx.write_locks, id).await? else { return Err(MediaError::UploadBusy) };
    let found = find(ctx, access, id).await;
    let done = match &found {
        Ok(row) => discard(ctx, row).await,
        Err(_) => Ok(()),
    };
    lock.release().await;
    done?;
    found
}

/// Removes what an unfinished upload holds in the store, then its row.
async fn discard(ctx: &Context, row: &UploadRow) -> Result<(), MediaError> {
    match row.state {
        UploadState::Receiving => ctx.store.abort_upload(&row.source_key, &row.multipart_id).await?,
        // Stored but never made an asset: the object is nobody's.
        UploadState::Stored => ctx.store.delete(&row.source_key).await?,
        UploadState::Complete => {}
    }
    uploads::delete(&ctx.pool, row.id).await
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX / 4)
}
