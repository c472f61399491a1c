//! Direct uploads: an editor asks for a one-time token that lets a browser or a partner's
//! server, holding no token of the editor's, create one upload of at most `max_bytes`
//! before it expires. Only SHA-256 hashes of tokens and keys are stored.

use aws_lc_rs::{constant_time, digest, rand::SecureRandom};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{MediaError, pipeline::Context};

/// A new grant: its token (shown once), the byte cap and the expiry.
pub struct Grant {
    pub token: String,
    pub max_bytes: u64,
    pub expires_at: OffsetDateTime,
}

pub(crate) fn hash(secret: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, secret.as_bytes()).as_ref().to_vec()
}

pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// 256 random bits, URL-safe.
pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    // The system RNG failing is not something to carry on from.
    #[allow(clippy::expect_used)]
    aws_lc_rs::rand::SystemRandom::new().fill(&mut bytes).expect("the system random source failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Grants `owner` one upload of at most `max_bytes` (the limit when 0 or above it), for
/// `expires_in_secs` (the default when 0, never past the maximum).
pub(crate) async fn grant(
    ctx: &Context,
    owner: Uuid,
    max_bytes: u64,
    expires_in_secs: u64,
) -> Result<Grant, MediaError> {
    let settings = &ctx.settings.uploads;
    let limit = ctx.settings.limits.max_upload_bytes;
    let max_bytes = if max_bytes == 0 { limit } else { max_bytes.min(limit) };
    let secs = if expires_in_secs == 0 { settings.direct_expiry_secs } else { expires_in_secs }
        .min(settings.direct_max_expiry_secs);
    let expires_at = OffsetDateTime::now_utc() + time::Duration::seconds(super::secs(secs));
    let token = new_secret();
    sqlx::query("INSERT INTO media.direct_uploads (token_hash, owner, max_bytes, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash(&token))
        .bind(owner)
        .bind(i64::try_from(max_bytes).unwrap_or(i64::MAX))
        .bind(expires_at)
        .execute(&ctx.pool)
        .await?;
    Ok(Grant { token, max_bytes, expires_at })
}

/// Uses up `token` for the upload `upload_id` of `length` bytes (in `tx`, with the
/// upload's row); returns the editor the upload belongs to. A refused length leaves the
/// token unused.
pub(crate) async fn redeem(
    tx: &mut PgConnection,
    token: &str,
    length: Option<u64>,
    upload_id: Uuid,
) -> Result<Uuid, MediaError> {
    let grant: Option<(Uuid, i64)> = sqlx::query_as(
        "SELECT owner, max_bytes FROM media.direct_uploads
         WHERE token_hash = $1 AND upload_id IS NULL AND expires_at > now() FOR UPDATE",
    )
    .bind(hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let (owner, max_bytes) = grant.ok_or(MediaError::DirectUploadInvalid)?;
    let max_bytes = max_bytes.max(0) as u64;
    // A direct upload says its length up front, so the cap holds before any byte.
    let length = length.ok_or(MediaError::Invalid { field: "length", message: "is required".into() })?;
    if length > max_bytes {
        return Err(MediaError::TooLarge(max_bytes));
    }
    sqlx::query("UPDATE media.direct_uploads SET upload_id = $2 WHERE token_hash = $1")
        .bind(hash(token))
        .bind(upload_id)
        .execute(&mut *tx)
        .await?;
    Ok(owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_url_safe_and_compared_by_hash() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits in unpadded base64");
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert!(same(&hash(&a), &hash(&a)));
        assert!(!same(&hash(&a), &hash(&b)));
    }
}
