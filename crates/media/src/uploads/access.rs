//! Who may see and write an upload: its owner (by a verified token), or the client of a
//! direct upload (by the key its creation answered). To anyone else it does not exist.

use uuid::Uuid;

use crate::{
    MediaError,
    pipeline::Context,
    store::uploads::{self, UploadRow, UploadState},
};

pub(crate) enum Access {
    Owner(Uuid),
    Key(String),
}

impl Access {
    fn admits(&self, row: &UploadRow) -> bool {
        match self {
            Access::Owner(user) => row.owner == *user,
            Access::Key(key) => {
                row.key_hash.as_deref().is_some_and(|hash| super::direct::same(hash, &super::direct::hash(key)))
            }
        }
    }
}

/// The upload, if `access` admits it; an unfinished one past its expiry is gone.
pub(crate) async fn find(ctx: &Context, access: &Access, id: Uuid) -> Result<UploadRow, MediaError> {
    let row = uploads::get(&ctx.pool, id).await?.filter(|row| access.admits(row));
    let row = row.ok_or(MediaError::NotFound("upload"))?;
    if row.state == UploadState::Receiving && row.expired() {
        return Err(MediaError::UploadExpired);
    }
    Ok(row)
}
