//! Queries on refresh-token families and their tokens.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AuthError;

/// What a presented refresh token turned out to be.
pub(crate) enum Presented {
    Unknown,
    /// Its family was revoked (logout, or reuse detected earlier).
    Revoked,
    /// Already exchanged once. Within the grace window that is the same browser racing
    /// itself; after it, someone holds a copy.
    Spent {
        family_id: Uuid,
        user_id: Uuid,
        in_grace: bool,
    },
    Expired,
    Live {
        family_id: Uuid,
        user_id: Uuid,
    },
}

pub(crate) async fn start_family(conn: &mut PgConnection, user_id: Uuid) -> Result<Uuid, AuthError> {
    let family_id = Uuid::new_v4();
    sqlx::query("INSERT INTO auth.refresh_families (id, user_id) VALUES ($1, $2)")
        .bind(family_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(family_id)
}

pub(crate) async fn insert_token(
    conn: &mut PgConnection,
    family_id: Uuid,
    token_hash: &[u8],
    expires_at: OffsetDateTime,
) -> Result<(), AuthError> {
    sqlx::query("INSERT INTO auth.refresh_tokens (token_hash, family_id, expires_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(family_id)
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Looks the token up and locks it and its family, so two exchanges of one token are
/// decided one after the other. A spent token is `in_grace` when it was exchanged less
/// than `grace_secs` ago, by the database's clock (the one that wrote `used_at`).
pub(crate) async fn lock(conn: &mut PgConnection, token_hash: &[u8], grace_secs: i64) -> Result<Presented, AuthError> {
    type Row = (Uuid, Uuid, OffsetDateTime, Option<OffsetDateTime>, Option<OffsetDateTime>, bool);
    let row = sqlx::query_as::<_, Row>(
        "SELECT t.family_id, f.user_id, t.expires_at, t.used_at, f.revoked_at,
                coalesce(t.used_at > now() - make_interval(secs => $2), false)
         FROM auth.refresh_tokens t JOIN auth.refresh_families f ON f.id = t.family_id
         WHERE t.token_hash = $1
         FOR UPDATE OF t, f",
    )
    .bind(token_hash)
    .bind(grace_secs as f64)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        None => Presented::Unknown,
        Some((_, _, _, _, Some(_), _)) => Presented::Revoked,
        Some((family_id, user_id, _, Some(_), None, in_grace)) => Presented::Spent { family_id, user_id, in_grace },
        Some((_, _, expires_at, None, None, _)) if expires_at <= OffsetDateTime::now_utc() => Presented::Expired,
        Some((family_id, user_id, _, None, None, _)) => Presented::Live { family_id, user_id },
    })
}

pub(crate) async fn mark_used(conn: &mut PgConnection, token_hash: &[u8]) -> Result<(), AuthError> {
    sqlx::query("UPDATE auth.refresh_tokens SET used_at = now() WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn revoke_family(conn: &mut PgConnection, family_id: Uuid) -> Result<(), AuthError> {
    sqlx::query("UPDATE auth.refresh_families SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
        .bind(family_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The family a token belongs to, whatever its state.
pub(crate) async fn family_of(pool: &PgPool, token_hash: &[u8]) -> Result<Option<Uuid>, AuthError> {
    let family = sqlx::query_scalar("SELECT family_id FROM auth.refresh_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(pool)
        .await?;
    Ok(family)
}
