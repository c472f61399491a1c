//! Queries on profiles and watchlists.

use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::constraint;
use crate::CatalogError;

/// An account has at most this many profiles.
pub(crate) const MAX_PROFILES: i64 = 5;

/// A profile row.
#[derive(sqlx::FromRow)]
struct ProfileRow {
    id: Uuid,
    name: String,
    created_at: OffsetDateTime,
    max_maturity_rating: Option<String>,
}

impl From<ProfileRow> for pb::Profile {
    fn from(row: ProfileRow) -> Self {
        pb::Profile {
            id: row.id.to_string(),
            name: row.name,
            created_at: row.created_at.unix_timestamp(),
            kids: row.max_maturity_rating.is_some(),
            max_maturity_rating: row.max_maturity_rating.unwrap_or_default(),
        }
    }
}

fn name_taken(error: sqlx::Error) -> CatalogError {
    if constraint(&error) == Some("profiles_account_name_key") { CatalogError::ProfileNameTaken } else { error.into() }
}

pub(crate) async fn create_profile(
    pool: &PgPool,
    account_id: Uuid,
    name: &str,
    max_rating: Option<&str>,
) -> Result<pb::Profile, CatalogError> {
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
    let row: ProfileRow = sqlx::query_as(
        "INSERT INTO catalog.profiles (id, account_id, name, max_maturity_rating) VALUES ($1, $2, $3, $4)
         RETURNING id, name, created_at, max_maturity_rating",
    )
    .bind(Uuid::new_v4())
    .bind(account_id)
    .bind(name)
    .bind(max_rating)
    .fetch_one(&mut *tx)
    .await
    .map_err(name_taken)?;
    tx.commit().await?;
    Ok(row.into())
}

pub(crate) async fn list_profiles(pool: &PgPool, account_id: Uuid) -> Result<Vec<pb::Profile>, CatalogError> {
    let rows: Vec<ProfileRow> = sqlx::query_as(
        "SELECT id, name, created_at, max_maturity_rating FROM catalog.profiles WHERE account_id = $1
         ORDER BY created_at, id",
    )
    .bind(account_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Renames the account's profile and sets its limit (none for a grown-up profile).
pub(crate) async fn update_profile(
    pool: &PgPool,
    account_id: Uuid,
    profile_id: Uuid,
    name: &str,
    max_rating: Option<&str>,
) -> Result<pb::Profile, CatalogError> {
    let row: Option<ProfileRow> = sqlx::query_as(
        "UPDATE catalog.profiles SET name = $3, max_maturity_rating = $4 WHERE id = $1 AND account_id = $2
         RETURNING id, name, created_at, max_maturity_rating",
    )
    .bind(profile_id)
    .bind(account_id)
    .bind(name)
    .bind(max_rating)
    .fetch_optional(pool)
    .await
    .map_err(name_taken)?;
    row.map(Into::into).ok_or(CatalogError::NotFound("profile"))
}

/// Deletes the account's profile; its watchlist and progress go with it (cascade).
pub(crate) async fn delete_profile(pool: &PgPool, account_id: Uuid, profile_id: Uuid) -> Result<(), CatalogError> {
    let deleted = sqlx::query("DELETE FROM catalog.profiles WHERE id = $1 AND account_id = $2")
        .bind(profile_id)
        .bind(account_id)
        .execute(pool)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(CatalogError::NotFound("profile"));
    }
    Ok(())
}

/// Deletes every profile of the account, and so all it kept; answers how many.
pub(crate) async fn erase_account(pool: &PgPool, account_id: Uuid) -> Result<u64, CatalogError> {
    let deleted =
        sqlx::query("DELETE FROM catalog.profiles WHERE account_id = $1").bind(account_id).execute(pool).await?;
    Ok(deleted.rows_affected())
}

/// The maturity limit (a level, see `domain::maturity`) of the account's profile: `None`
/// for a grown-up profile, `NotFound` when the profile is not the account's.
pub(crate) async fn profile_limit(
    pool: &PgPool,
    account_id: Uuid,
    profile_id: Uuid,
) -> Result<Option<i32>, CatalogError> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT max_maturity_rating FROM catalog.profiles WHERE id = $1 AND account_id = $2")
            .bind(profile_id)
            .bind(account_id)
            .fetch_optional(pool)
            .await?;
    let (rating,) = row.ok_or(CatalogError::NotFound("profile"))?;
    Ok(rating.map(|r| crate::domain::maturity::level(&r)))
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
