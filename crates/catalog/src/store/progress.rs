//! Queries on playback progress.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{from_micros, micros};
use crate::{
    CatalogError,
    domain::progress::{FINISHED, Position},
};

#[derive(sqlx::FromRow, Clone, Debug)]
pub(crate) struct ProgressRow {
    pub item_id: Uuid,
    pub title_id: Uuid,
    pub episode_id: Option<Uuid>,
    pub position_secs: f64,
    pub duration_secs: f64,
    pub updated_at: OffsetDateTime,
}

impl ProgressRow {
    pub(crate) fn position(&self) -> Position {
        Position { position_secs: self.position_secs, duration_secs: self.duration_secs }
    }

    pub(crate) fn sort_key(&self) -> (i64, Uuid) {
        (micros(self.updated_at), self.item_id)
    }
}

/// Saves a position report. With `counted`, the same statement adds it to the day's
/// viewing figures ([`super::views`]).
pub(crate) async fn record(
    pool: &PgPool,
    profile_id: Uuid,
    title_id: Uuid,
    episode_id: Option<Uuid>,
    at: Position,
    counted: bool,
) -> Result<ProgressRow, CatalogError> {
    let query = sqlx::query_as(if counted { super::views::RECORD_AND_COUNT } else { RECORD })
        .bind(profile_id)
        .bind(episode_id.unwrap_or(title_id))
        .bind(title_id)
        .bind(episode_id)
        .bind(at.position_secs)
        .bind(at.duration_secs);
    let query = if counted { query.bind(FINISHED) } else { query };
    Ok(query.fetch_one(pool).await?)
}

/// The upsert alone.
const RECORD: &str =
    "INSERT INTO catalog.progress (profile_id, item_id, title_id, episode_id, position_secs, duration_secs)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (profile_id, item_id) DO UPDATE
        SET position_secs = EXCLUDED.position_secs, duration_secs = EXCLUDED.duration_secs, updated_at = now()
     RETURNING item_id, title_id, episode_id, position_secs, duration_secs, updated_at";

/// Most recent first, after the row whose key is `after`.
pub(crate) async fn history(
    pool: &PgPool,
    profile_id: Uuid,
    after: Option<(i64, Uuid)>,
    limit: i64,
) -> Result<Vec<ProgressRow>, CatalogError> {
    Ok(sqlx::query_as(
        "SELECT item_id, title_id, episode_id, position_secs, duration_secs, updated_at FROM catalog.progress
         WHERE profile_id = $1 AND ($2::timestamptz IS NULL OR (updated_at, item_id) < ($2, $3))
         ORDER BY updated_at DESC, item_id DESC
         LIMIT $4",
    )
    .bind(profile_id)
    .bind(after.map(|(at, _)| from_micros(at)))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The latest row of each title (a series counts once), most recent first.
pub(crate) async fn latest_per_title(
    pool: &PgPool,
    profile_id: Uuid,
    limit: i64,
) -> Result<Vec<ProgressRow>, CatalogError> {
    Ok(sqlx::query_as(
        "SELECT * FROM (
            SELECT DISTINCT ON (title_id) item_id, title_id, episode_id, position_secs, duration_secs, updated_at
            FROM catalog.progress WHERE profile_id = $1
            ORDER BY title_id, updated_at DESC
         ) latest ORDER BY updated_at DESC LIMIT $2",
    )
    .bind(profile_id)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
