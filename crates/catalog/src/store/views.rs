//! Viewing analytics: plays, viewers, watch time and completions per title and UTC day,
//! counted from the position reports players already send.
//!
//! Counting happens in the statement that saves the report ([`RECORD_AND_COUNT`]): one
//! round trip, one transaction, and each viewer writes only their own `catalog.views` row,
//! so a title everyone watches at once is no hot row. The figures are sums over those rows
//! when an editor asks; the key (title, day, …) keeps a title's month to one index range.

use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use crate::CatalogError;

/// [`super::progress::RECORD`] plus the day's figures, from the report before this one
/// (`prev`, read in the statement's snapshot, before the upsert):
/// - a play begins when the item had no report in the 30 minutes before;
/// - watch time is the position gained since that report, but never more than the wall
///   time between the two plus 2 s of slack for request jitter, so a seek forward is not
///   watching, and a seek back counts nothing;
/// - the item is completed once a report reaches the finished threshold (`$7`).
pub(super) const RECORD_AND_COUNT: &str = "WITH prev AS (
        SELECT position_secs, updated_at FROM catalog.progress WHERE profile_id = $1 AND item_id = $2
     ), saved AS (
        INSERT INTO catalog.progress (profile_id, item_id, title_id, episode_id, position_secs, duration_secs)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (profile_id, item_id) DO UPDATE
           SET position_secs = EXCLUDED.position_secs, duration_secs = EXCLUDED.duration_secs, updated_at = now()
        RETURNING item_id, title_id, episode_id, position_secs, duration_secs, updated_at
     ), counted AS (
        INSERT INTO catalog.views AS v (title_id, day, profile_id, item_id, plays, watch_secs, completed)
        SELECT $3, (now() AT TIME ZONE 'UTC')::date, $1, $2,
               CASE WHEN recent.updated_at IS NULL THEN 1 ELSE 0 END,
               CASE WHEN recent.updated_at IS NULL THEN 0
                    ELSE greatest(0, least($5 - recent.position_secs, extract(epoch FROM now() - recent.updated_at)::float8 + 2))
               END,
               $5 >= $7 * $6
        FROM (SELECT 1) one
        LEFT JOIN (SELECT * FROM prev WHERE updated_at > now() - interval '30 minutes') recent ON true
        ON CONFLICT (title_id, day, profile_id, item_id) DO UPDATE
           SET plays = v.plays + EXCLUDED.plays, watch_secs = v.watch_secs + EXCLUDED.watch_secs,
               completed = v.completed OR EXCLUDED.completed
     )
     SELECT * FROM saved";

/// One day's figures (or, with `day` unset, a whole range's: viewers then counts each
/// profile once over the range).
#[derive(sqlx::FromRow, Clone, Debug, Default, PartialEq)]
pub(crate) struct Figures {
    pub day: Option<Date>,
    pub plays: i64,
    pub viewers: i64,
    pub watch_secs: f64,
    pub completions: i64,
}

/// A title's figures over a range, with its name.
#[derive(sqlx::FromRow, Clone, Debug)]
pub(crate) struct TitleFigures {
    pub title_id: Uuid,
    pub title: String,
    pub plays: i64,
    pub viewers: i64,
    pub watch_secs: f64,
    pub completions: i64,
}

/// Per day from `from` to `to` (inclusive) and, last, the whole range (`day` NULL): for
/// one title, or the whole catalog when `title_id` is `None`. Days nobody watched are
/// absent; the caller fills them.
pub(crate) async fn figures(
    pool: &PgPool,
    title_id: Option<Uuid>,
    from: Date,
    to: Date,
) -> Result<Vec<Figures>, CatalogError> {
    Ok(sqlx::query_as(
        "SELECT day, coalesce(sum(plays), 0)::int8 AS plays, count(DISTINCT profile_id) AS viewers,
                coalesce(sum(watch_secs), 0)::float8 AS watch_secs, count(*) FILTER (WHERE completed) AS completions
         FROM catalog.views
         WHERE ($1::uuid IS NULL OR title_id = $1) AND day BETWEEN $2 AND $3
         GROUP BY GROUPING SETS ((day), ())
         ORDER BY day NULLS LAST",
    )
    .bind(title_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?)
}

/// The most watched titles over a range, by watch time.
pub(crate) async fn top_titles(
    pool: &PgPool,
    from: Date,
    to: Date,
    limit: i64,
) -> Result<Vec<TitleFigures>, CatalogError> {
    Ok(sqlx::query_as(
        "SELECT v.title_id, t.title, sum(v.plays)::int8 AS plays, count(DISTINCT v.profile_id) AS viewers,
                sum(v.watch_secs)::float8 AS watch_secs, count(*) FILTER (WHERE v.completed) AS completions
         FROM catalog.views v JOIN catalog.titles t ON t.id = v.title_id
         WHERE v.day BETWEEN $1 AND $2
         GROUP BY v.title_id, t.title
         ORDER BY watch_secs DESC, v.title_id
         LIMIT $3",
    )
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
