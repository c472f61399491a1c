//! Queries on profiles and watchlists.

use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::constraint;
use crate::CatalogError;

/// An account has at most this many profiles.
pub(crate) const MAX_PROFILES: i64 = 5;

pub(crate) async fn create_profile(pool: &PgPool, account_id: Uuid, name: &str) -> Result<pb::Profile, CatalogError> {
    let mut tx = pool.begin().await?;
    // Serialises profile creation per account, so two at once cannot both pass the count.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))")
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM catalog.profiles WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_PROFILES {
        return Err(CatalogError::ProfileLimitReached(MAX_PROFILES));
    }
    let id = Uuid::new_v4();
    let created_at: OffsetDateTime = sqlx::query_scalar(
        "INSERT INTO catalog.profiles (id, account_id, name) VALUES ($1, $2, $3) RETURNING created_at",
    )
    .bind(id)
    .bind(account_id)
    .bind(name)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        if constraint(&e) == Some("profiles_account_name_key") { CatalogError::ProfileNameTaken } else { e.into() }
    })?;
    tx.commit().await?;
    Ok(pb::Profile { id: id.to_string(), name: name.to_owned(), created_at: created_at.unix_timestamp() })
}

pub(crate) async fn list_profiles(pool: &PgPool, account_id: Uuid) -> Result<Vec<pb::Profile>, CatalogError> {
    let rows: Vec<(Uuid, String, OffsetDateTime)> = sqlx::query_as(
        "SELECT id, name, created_at FROM catalog.profiles WHERE account_id = $1 ORDER BY created_at, id",
    )
    .bind(account_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, created_at)| pb::Profile { id: id.to_string(), name, created_at: created_at.unix_timestamp() })
        .collect())
}

/// Whether `profile_id` belongs to `account_id`. Someone else's profile and a missing
/// one look the same to the caller.
pub(crate) async fn owns_profile(pool: &PgPool, account_id: Uuid, profile_id: Uuid) -> Result<bool, CatalogError> {
    let owned: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM catalog.profiles WHERE id = $1 AND account_id = $2)")
            .bind(profile_id)
            .bind(account_id)
            .fetch_one(pool)
            .await?;
    Ok(owned)
}

pub(crate) async fn add_to_watchlist(pool: &PgPool, profile_id: Uuid, title_id: Uuid) -> Result<(), CatalogError> {
    sqlx::query("INSERT INTO catalog.watchlist (profile_id, title_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(profile_id)
        .bind(title_id)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn remove_from_watchlist(pool: &PgPool, profile_id: Uuid, title_id: Uuid) -> Result<(), CatalogError> {
    sqlx::query("DELETE FROM catalog.watchlist WHERE profile_id = $1 AND title_id = $2")
        .bind(profile_id)
        .bind(title_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Title ids on the watchlist, most recently added first.
pub(crate) async fn watchlist(pool: &PgPool, profile_id: Uuid) -> Result<Vec<Uuid>, CatalogError> {
    Ok(sqlx::query_scalar(
        "SELECT title_id FROM catalog.watchlist WHERE profile_id = $1 ORDER BY added_at DESC, title_id",
    )
    .bind(profile_id)
    .fetch_all(pool)
    .await?)
}
