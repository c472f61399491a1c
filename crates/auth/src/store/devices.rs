//! Queries on `auth.device_authorizations`: TV sign-ins, from the device's request to the
//! session it is given.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{AuthError, domain::UserCode};

/// Inserts a pending sign-in; `false` when its user code is taken (the caller draws again).
pub(crate) async fn insert(
    pool: &PgPool,
    device_code_hash: &[u8],
    user_code: &UserCode,
    ttl_secs: i64,
    interval_secs: i64,
) -> Result<bool, AuthError> {
    let inserted = sqlx::query(
        "INSERT INTO auth.device_authorizations (id, device_code_hash, user_code, expires_at, interval_secs)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)",
    )
    .bind(Uuid::new_v4())
    .bind(device_code_hash)
    .bind(user_code.as_str())
    .bind(ttl_secs as f64)
    .bind(i32::try_from(interval_secs).unwrap_or(i32::MAX))
    .execute(pool)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(db)) if db.constraint() == Some("device_authorizations_user_code_key") => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Forgets sign-ins that expired more than an hour ago; until then a late poll still hears
/// `expired_token` rather than `invalid_device_code`.
pub(crate) async fn purge_expired(pool: &PgPool) -> Result<(), AuthError> {
    sqlx::query("DELETE FROM auth.device_authorizations WHERE expires_at < now() - interval '1 hour'")
        .execute(pool)
        .await?;
    Ok(())
}

/// What became of a viewer's decision.
pub(crate) enum Decision {
    Recorded,
    /// The code was pending but is past its time.
    Expired,
    /// No pending sign-in has this code: mistyped, already decided, or long gone.
    Unknown,
}

/// Records the viewer's decision on the pending, unexpired sign-in showing `user_code`.
pub(crate) async fn decide(
    pool: &PgPool,
    user_code: &UserCode,
    user_id: Uuid,
    session: Option<Uuid>,
    approved: bool,
) -> Result<Decision, AuthError> {
    let decided = sqlx::query(
        "UPDATE auth.device_authorizations
         SET approved = $2, user_id = $3, approved_in_session = $4, decided_at = now()
         WHERE user_code = $1 AND approved IS NULL AND expires_at > now()",
    )
    .bind(user_code.as_str())
    .bind(approved)
    .bind(user_id)
    .bind(session)
    .execute(pool)
    .await?;
    if decided.rows_affected() > 0 {
        return Ok(Decision::Recorded);
    }
    let expired: Option<bool> = sqlx::query_scalar(
        "SELECT expires_at <= now() FROM auth.device_authorizations WHERE user_code = $1 AND approved IS NULL",
    )
    .bind(user_code.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(if expired == Some(true) { Decision::Expired } else { Decision::Unknown })
}

/// What a device's poll finds.
pub(crate) enum Polled {
    Unknown,
    Expired,
    Denied,
    Approved {
        id: Uuid,
        user_id: Uuid,
        session: Option<Uuid>,
    },
    /// Polled sooner than its interval, which has now grown by 5 s to this.
    TooSoon {
        interval_secs: i64,
    },
    Pending,
}

type Row = (Uuid, bool, Option<bool>, Option<Uuid>, Option<Uuid>, bool);

/// Locks the sign-in of `device_code_hash` until the transaction ends, and records this
/// poll when it is still pending (RFC 8628 §3.5: a poll sooner than the interval gets
/// `slow_down`, and the interval grows by 5 s for this and every later poll).
pub(crate) async fn poll(conn: &mut PgConnection, device_code_hash: &[u8]) -> Result<Polled, AuthError> {
    let row = sqlx::query_as::<_, Row>(
        "SELECT id, expires_at <= now(), approved, user_id, approved_in_session,
                coalesce(last_polled_at > now() - make_interval(secs => interval_secs), false)
         FROM auth.device_authorizations WHERE device_code_hash = $1
         FOR UPDATE",
    )
    .bind(device_code_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, expired, approved, user_id, session, too_soon)) = row else {
        return Ok(Polled::Unknown);
    };
    match (expired, approved, user_id) {
        (true, _, _) => Ok(Polled::Expired),
        (false, Some(false), _) => Ok(Polled::Denied),
        (false, Some(true), Some(user_id)) => Ok(Polled::Approved { id, user_id, session }),
        (false, Some(true), None) => Ok(Polled::Unknown),
        (false, None, _) => {
            let interval_secs: i32 = sqlx::query_scalar(
                "UPDATE auth.device_authorizations
                 SET last_polled_at = now(), interval_secs = interval_secs + CASE WHEN $2 THEN 5 ELSE 0 END
                 WHERE id = $1 RETURNING interval_secs",
            )
            .bind(id)
            .bind(too_soon)
            .fetch_one(conn)
            .await?;
            Ok(if too_soon { Polled::TooSoon { interval_secs: interval_secs.into() } } else { Polled::Pending })
        }
    }
}

/// The sign-in is over: it gave its session, or its approval no longer holds.
pub(crate) async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<(), AuthError> {
    sqlx::query("DELETE FROM auth.device_authorizations WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}
