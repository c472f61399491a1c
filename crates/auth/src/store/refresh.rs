//! Queries on refresh-token families and their tokens.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AuthError;

/// What a presented refresh token turned out to be.
pub(crate) enum Presented {
    Unknown,
    /// Its family was revoked (logout, reuse detected earlier, a password change, the
    /// account disabled).
    Revoked {
        user_id: Uuid,
    },
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
        Some((_, user_id, _, _, Some(_), _)) => Presented::Revoked { user_id },
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

/// The families one call revoked.
pub(crate) struct Revoked {
    pub count: usize,
    /// Those that may still hold an unexpired access token: given a token in the last
    /// `recent_secs` (every access token is issued with a refresh token). Only these need
    /// ending in Redis, which stays small however many old sign-ins an account has.
    pub with_live_tokens: Vec<Uuid>,
}

/// Revokes every live family of the user but `except` (the caller's own session, when it
/// stays).
pub(crate) async fn revoke_all(
    conn: &mut PgConnection,
    user_id: Uuid,
    except: Option<Uuid>,
    recent_secs: i64,
) -> Result<Revoked, AuthError> {
    let rows: Vec<(Uuid, bool)> = sqlx::query_as(
        "UPDATE auth.refresh_families f SET revoked_at = now()
         WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2)
         RETURNING id, EXISTS (SELECT 1 FROM auth.refresh_tokens t
                               WHERE t.family_id = f.id AND t.created_at > now() - make_interval(secs => $3))",
    )
    .bind(user_id)
    .bind(except)
    .bind(recent_secs as f64)
    .fetch_all(conn)
    .await?;
    let count = rows.len();
    let with_live_tokens = rows.into_iter().filter_map(|(id, recent)| recent.then_some(id)).collect();
    Ok(Revoked { count, with_live_tokens })
}

/// Whether the family exists and is not revoked.
pub(crate) async fn is_live(conn: &mut PgConnection, family_id: Uuid) -> Result<bool, AuthError> {
    let live =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM auth.refresh_families WHERE id = $1 AND revoked_at IS NULL)")
            .bind(family_id)
            .fetch_one(conn)
            .await?;
    Ok(live)
}

/// The family a token belongs to, whatever its state.
pub(crate) async fn family_of(pool: &PgPool, token_hash: &[u8]) -> Result<Option<Uuid>, AuthError> {
    let family = sqlx::query_scalar("SELECT family_id FROM auth.refresh_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(pool)
        .await?;
    Ok(family)
}
