//! Queries on `auth.signing_keys`.

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::AuthError;

#[derive(sqlx::FromRow)]
pub(crate) struct KeyRow {
    pub kid: String,
    pub private_pkcs8: Vec<u8>,
    pub public_x: String,
    pub active_from: OffsetDateTime,
}

/// The key that signs now: the newest active one.
pub(crate) async fn current(pool: &PgPool) -> Result<Option<KeyRow>, AuthError> {
    let row = sqlx::query_as(
        "SELECT kid, private_pkcs8, public_x, active_from FROM auth.signing_keys
         WHERE active_from <= now() ORDER BY active_from DESC, created_at DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row)
}

/// Published keys: every key not active yet, the current one and the one before it.
pub(crate) async fn published(pool: &PgPool) -> Result<Vec<(String, String)>, AuthError> {
    let rows = sqlx::query_as(
        "(SELECT kid, public_x FROM auth.signing_keys WHERE active_from > now())
         UNION ALL
         (SELECT kid, public_x FROM auth.signing_keys WHERE active_from <= now()
          ORDER BY active_from DESC, created_at DESC LIMIT 2)",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

pub(crate) async fn insert(executor: impl sqlx::PgExecutor<'_>, key: &KeyRow) -> Result<(), AuthError> {
    sqlx::query("INSERT INTO auth.signing_keys (kid, private_pkcs8, public_x, active_from) VALUES ($1, $2, $3, $4)")
        .bind(&key.kid)
        .bind(&key.private_pkcs8)
        .bind(&key.public_x)
        .bind(key.active_from)
        .execute(executor)
        .await?;
    Ok(())
}

/// Inserts `key` only if there is no key at all; two instances starting together agree
/// on one first key.
pub(crate) async fn insert_first(pool: &PgPool, key: &KeyRow) -> Result<(), AuthError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('ottr.auth.signing_keys'))").execute(&mut *tx).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM auth.signing_keys)").fetch_one(&mut *tx).await?;
    if !exists {
        insert(&mut *tx, key).await?;
    }
    tx.commit().await?;
    Ok(())
}
