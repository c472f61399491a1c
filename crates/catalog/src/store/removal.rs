//! Deletes. They are immediate: the foreign keys cascade a title to its seasons,
//! episodes, watchlist entries and viewing history, and an episode to its history, in the
//! one statement that deletes it. An asset goes with what played it only when nothing else
//! plays it: two episodes (or a movie and an episode) may share one.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::CatalogError;

/// What a delete took away: the title's id and slug (for the cache), the series an
/// episode belonged to, and the assets that played what went and that nothing left plays.
pub(crate) struct Removed {
    pub title_id: Uuid,
    pub slug: Option<String>,
    pub asset_ids: Vec<Uuid>,
}

pub(crate) async fn delete_title(pool: &PgPool, id: Uuid) -> Result<Removed, CatalogError> {
    let mut tx = pool.begin().await?;
    let asset_ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT asset_id FROM catalog.titles WHERE id = $1 AND asset_id IS NOT NULL
         UNION
         SELECT e.asset_id FROM catalog.episodes e JOIN catalog.seasons s ON s.id = e.season_id
         WHERE s.series_id = $1 AND e.asset_id IS NOT NULL",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let slug: Option<String> = sqlx::query_scalar("DELETE FROM catalog.titles WHERE id = $1 RETURNING slug")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let slug = slug.ok_or(CatalogError::NotFound("title"))?;
    let asset_ids = played_by_nothing(&mut tx, &asset_ids).await?;
    tx.commit().await?;
    Ok(Removed { title_id: id, slug: Some(slug), asset_ids })
}

pub(crate) async fn delete_episode(pool: &PgPool, id: Uuid) -> Result<Removed, CatalogError> {
    let mut tx = pool.begin().await?;
    let row: Option<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "DELETE FROM catalog.episodes e USING catalog.seasons s
         WHERE e.id = $1 AND s.id = e.season_id RETURNING s.series_id, e.asset_id",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (series_id, asset_id) = row.ok_or(CatalogError::NotFound("episode"))?;
    let asset_ids = played_by_nothing(&mut tx, &Vec::from_iter(asset_id)).await?;
    tx.commit().await?;
    Ok(Removed { title_id: series_id, slug: None, asset_ids })
}

/// Those of `asset_ids` that no title or episode left plays, inside the delete's
/// transaction: the ones the delete may take with it. Each asset is locked until the
/// transaction ends, in one order, so two deletes of the last two items sharing an asset
/// cannot both see the other still there and both keep it (orphaning its objects): the
/// second waits, and its next statement sees the first one's delete.
async fn played_by_nothing(conn: &mut PgConnection, asset_ids: &[Uuid]) -> Result<Vec<Uuid>, CatalogError> {
    const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('catalog.asset'), hashtext(a::text))
                        FROM unnest($1::uuid[]) a";
    const UNPLAYED: &str = "SELECT a FROM unnest($1::uuid[]) a
         WHERE NOT EXISTS (SELECT 1 FROM catalog.titles WHERE asset_id = a)
           AND NOT EXISTS (SELECT 1 FROM catalog.episodes WHERE asset_id = a)";
    let mut sorted = asset_ids.to_vec();
    sorted.sort_unstable();
    sqlx::query(LOCK).bind(&sorted).execute(&mut *conn).await?;
    Ok(sqlx::query_scalar(UNPLAYED).bind(&sorted).fetch_all(conn).await?)
}

/// The movies (id, slug) and episodes (id, series) that played the asset.
pub(crate) struct Detached {
    pub titles: Vec<(Uuid, String)>,
    pub episodes: Vec<(Uuid, Uuid)>,
}

/// Clears the asset from whatever played it and deletes every position in those items,
/// in one transaction.
pub(crate) async fn detach_asset(pool: &PgPool, asset_id: Uuid) -> Result<Detached, CatalogError> {
    let mut tx = pool.begin().await?;
    let titles: Vec<(Uuid, String)> = sqlx::query_as(
        "UPDATE catalog.titles SET asset_id = NULL, updated_at = now() WHERE asset_id = $1 RETURNING id, slug",
    )
    .bind(asset_id)
    .fetch_all(&mut *tx)
    .await?;
    let episodes: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE catalog.episodes e SET asset_id = NULL, updated_at = now() FROM catalog.seasons s
         WHERE e.asset_id = $1 AND s.id = e.season_id RETURNING e.id, s.series_id",
    )
    .bind(asset_id)
    .fetch_all(&mut *tx)
    .await?;
    let movie_ids: Vec<Uuid> = titles.iter().map(|(id, _)| *id).collect();
    let episode_ids: Vec<Uuid> = episodes.iter().map(|(id, _)| *id).collect();
    sqlx::query(
        "DELETE FROM catalog.progress
         WHERE (episode_id IS NULL AND title_id = ANY($1)) OR episode_id = ANY($2)",
    )
    .bind(&movie_ids)
    .bind(&episode_ids)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Detached { titles, episodes })
}
