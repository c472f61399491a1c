//! Queries on seasons and episodes.

use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;
use uuid::Uuid;

use super::constraint;
use crate::{CatalogError, domain::EpisodeFields};

/// The columns of [`EpisodeRow`], spliced into literal queries.
macro_rules! episode_columns {
    () => {
        "e.id, e.season_id, s.series_id, s.number AS season_number, e.number, e.title, e.synopsis, e.runtime_secs, e.asset_id"
    };
}

#[derive(sqlx::FromRow)]
pub struct EpisodeRow {
    pub id: Uuid,
    pub season_id: Uuid,
    pub series_id: Uuid,
    season_number: i32,
    number: i32,
    title: String,
    synopsis: String,
    runtime_secs: Option<i32>,
    asset_id: Option<Uuid>,
}

impl From<EpisodeRow> for pb::Episode {
    fn from(row: EpisodeRow) -> Self {
        let fields = EpisodeFields {
            number: row.number,
            title: row.title,
            synopsis: row.synopsis,
            runtime_secs: row.runtime_secs,
            asset_id: row.asset_id,
        };
        pb::Episode {
            id: row.id.to_string(),
            season_id: row.season_id.to_string(),
            series_id: row.series_id.to_string(),
            season_number: row.season_number as u32,
            fields: Some(fields.into()),
        }
    }
}

fn number_taken(what: &'static str, name: &'static str) -> impl Fn(sqlx::Error) -> CatalogError {
    move |error| {
        if constraint(&error) == Some(name) { CatalogError::NumberTaken(what) } else { error.into() }
    }
}

pub(crate) async fn create_season(
    pool: &PgPool,
    series_id: Uuid,
    number: i32,
    title: &str,
    synopsis: &str,
) -> Result<pb::Season, CatalogError> {
    let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM catalog.titles WHERE id = $1")
        .bind(series_id)
        .fetch_optional(pool)
        .await?;
    match kind.as_deref() {
        None => return Err(CatalogError::NotFound("series")),
        Some("series") => {}
        Some(_) => {
            return Err(CatalogError::invalid("series_id", "is a movie, not a series"));
        }
    }
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO catalog.seasons (id, series_id, number, title, synopsis) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(series_id)
        .bind(number)
        .bind(title)
        .bind(synopsis)
        .execute(pool)
        .await
        .map_err(number_taken("season", "seasons_series_number_key"))?;
    Ok(pb::Season {
        id: id.to_string(),
        series_id: series_id.to_string(),
        number: number as u32,
        title: title.to_owned(),
        synopsis: synopsis.to_owned(),
        episodes: Vec::new(),
    })
}

type Statement<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Binds an episode's fields as the next five parameters, in the order both the insert
/// and the update number them.
fn bind_fields<'q>(statement: Statement<'q>, f: &'q EpisodeFields) -> Statement<'q> {
    statement.bind(f.number).bind(&f.title).bind(&f.synopsis).bind(f.runtime_secs).bind(f.asset_id)
}

pub(crate) async fn create_episode(
    pool: &PgPool,
    season_id: Uuid,
    f: &EpisodeFields,
) -> Result<EpisodeRow, CatalogError> {
    let id = Uuid::new_v4();
    let insert = sqlx::query(
        "INSERT INTO catalog.episodes (id, season_id, number, title, synopsis, runtime_secs, asset_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(season_id);
    bind_fields(insert, f).execute(pool).await.map_err(|error| match constraint(&error) {
        Some("episodes_season_id_fkey") => CatalogError::NotFound("season"),
        _ => number_taken("episode", "episodes_season_number_key")(error),
    })?;
    get_episode(pool, id).await?.ok_or(CatalogError::NotFound("episode"))
}

pub(crate) async fn update_episode(pool: &PgPool, id: Uuid, f: &EpisodeFields) -> Result<EpisodeRow, CatalogError> {
    let update = sqlx::query(
        "UPDATE catalog.episodes SET number = $2, title = $3, synopsis = $4, runtime_secs = $5, asset_id = $6,
            updated_at = now()
         WHERE id = $1",
    )
    .bind(id);
    let updated =
        bind_fields(update, f).execute(pool).await.map_err(number_taken("episode", "episodes_season_number_key"))?;
    if updated.rows_affected() == 0 {
        return Err(CatalogError::NotFound("episode"));
    }
    get_episode(pool, id).await?.ok_or(CatalogError::NotFound("episode"))
}

pub(crate) async fn get_episode(pool: &PgPool, id: Uuid) -> Result<Option<EpisodeRow>, CatalogError> {
    let query = concat!(
        "SELECT ",
        episode_columns!(),
        " FROM catalog.episodes e JOIN catalog.seasons s ON s.id = e.season_id WHERE e.id = $1"
    );
    Ok(sqlx::query_as(query).bind(id).fetch_optional(pool).await?)
}

/// The episode that follows `episode` in play order: the next number in its season, else
/// the first of the next season that has any.
pub(crate) async fn next_episode(pool: &PgPool, episode: &EpisodeRow) -> Result<Option<EpisodeRow>, CatalogError> {
    let query = concat!(
        "SELECT ",
        episode_columns!(),
        " FROM catalog.episodes e JOIN catalog.seasons s ON s.id = e.season_id
         WHERE s.series_id = $1 AND (s.number, e.number) > ($2, $3)
         ORDER BY s.number, e.number LIMIT 1"
    );
    Ok(sqlx::query_as(query)
        .bind(episode.series_id)
        .bind(episode.season_number)
        .bind(episode.number)
        .fetch_optional(pool)
        .await?)
}

/// Every episode of a series in play order: by season, then by episode.
pub(crate) async fn episodes_in_order(pool: &PgPool, series_id: Uuid) -> Result<Vec<EpisodeRow>, CatalogError> {
    let query = concat!(
        "SELECT ",
        episode_columns!(),
        " FROM catalog.episodes e JOIN catalog.seasons s ON s.id = e.season_id
         WHERE s.series_id = $1 ORDER BY s.number, e.number"
    );
    Ok(sqlx::query_as(query).bind(series_id).fetch_all(pool).await?)
}

/// The seasons of a series, in order, each with its episodes in order.
pub(crate) async fn seasons(pool: &PgPool, series_id: Uuid) -> Result<Vec<pb::Season>, CatalogError> {
    let rows: Vec<(Uuid, i32, String, String)> =
        sqlx::query_as("SELECT id, number, title, synopsis FROM catalog.seasons WHERE series_id = $1 ORDER BY number")
            .bind(series_id)
            .fetch_all(pool)
            .await?;
    let mut seasons: Vec<pb::Season> = rows
        .into_iter()
        .map(|(id, number, title, synopsis)| pb::Season {
            id: id.to_string(),
            series_id: series_id.to_string(),
            number: number as u32,
            title,
            synopsis,
            episodes: Vec::new(),
        })
        .collect();
    for episode in episodes_in_order(pool, series_id).await? {
        let season_id = episode.season_id.to_string();
        if let Some(season) = seasons.iter_mut().find(|s| s.id == season_id) {
            season.episodes.push(episode.into());
        }
    }
    Ok(seasons)
}

/// The series a season belongs to.
pub(crate) async fn series_of_season(pool: &PgPool, season_id: Uuid) -> Result<Uuid, CatalogError> {
    sqlx::query_scalar("SELECT series_id FROM catalog.seasons WHERE id = $1")
        .bind(season_id)
        .fetch_optional(pool)
        .await?
        .ok_or(CatalogError::NotFound("season"))
}
