//! Queries on `catalog.titles`.

use ottr_proto::catalog::v1 as pb;
use sqlx::{PgExecutor, PgPool, types::Json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{constraint, from_micros, micros};
use crate::{
    CatalogError,
    domain::{Credit, Kind, Scope, TitleFields, Visibility},
};

/// The columns of [`TitleRow`], spliced into literal queries.
macro_rules! columns {
    () => {
        "id, kind, slug, title, synopsis, release_year, runtime_secs, maturity_rating, genres, tags, \
         credits, poster_url, backdrop_url, asset_id, downloadable, visibility, created_at, updated_at, published_at, sort_at"
    };
}

// After `columns!`, which the search queries splice in too.
mod search;
pub(crate) use search::search;

#[derive(sqlx::FromRow)]
pub struct TitleRow {
    id: Uuid,
    kind: String,
    slug: String,
    title: String,
    synopsis: String,
    release_year: Option<i32>,
    runtime_secs: Option<i32>,
    maturity_rating: String,
    genres: Vec<String>,
    tags: Vec<String>,
    credits: Json<Vec<Credit>>,
    poster_url: String,
    backdrop_url: String,
    asset_id: Option<Uuid>,
    downloadable: bool,
    visibility: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    published_at: Option<OffsetDateTime>,
    sort_at: OffsetDateTime,
}

impl TitleRow {
    /// The listing sort key, for page tokens.
    pub fn sort_key(&self) -> (i64, Uuid) {
        (micros(self.sort_at), self.id)
    }
}

impl From<TitleRow> for pb::Title {
    fn from(row: TitleRow) -> Self {
        // Check constraints keep kind and visibility to known values.
        let kind = Kind::parse(&row.kind).unwrap_or(Kind::Movie);
        let visibility = Visibility::parse(&row.visibility).unwrap_or(Visibility::Draft);
        let fields = TitleFields {
            kind,
            slug: row.slug,
            title: row.title,
            synopsis: row.synopsis,
            release_year: row.release_year,
            runtime_secs: row.runtime_secs,
            maturity_rating: row.maturity_rating,
            genres: row.genres,
            tags: row.tags,
            credits: row.credits.0,
            poster_url: row.poster_url,
            backdrop_url: row.backdrop_url,
            asset_id: row.asset_id,
            downloadable: row.downloadable,
        };
        pb::Title {
            id: row.id.to_string(),
            fields: Some(fields.into()),
            visibility: visibility.to_proto() as i32,
            created_at: row.created_at.unix_timestamp(),
            updated_at: row.updated_at.unix_timestamp(),
            published_at: row.published_at.map_or(0, OffsetDateTime::unix_timestamp),
        }
    }
}

type TitleQuery<'q> = sqlx::query::QueryAs<'q, sqlx::Postgres, TitleRow, sqlx::postgres::PgArguments>;

/// Binds the editable fields, in the order both `insert` and `update` list them after the id.
fn bind_editable<'q>(query: TitleQuery<'q>, f: &'q TitleFields) -> TitleQuery<'q> {
    query
        .bind(&f.slug)
        .bind(&f.title)
        .bind(&f.synopsis)
        .bind(f.release_year)
        .bind(f.runtime_secs)
        .bind(&f.maturity_rating)
        .bind(&f.genres)
        .bind(&f.tags)
        .bind(Json(&f.credits))
        .bind(f.credit_names())
        .bind(&f.poster_url)
        .bind(&f.backdrop_url)
        .bind(f.asset_id)
        .bind(f.downloadable)
}

fn slug_taken(error: sqlx::Error) -> CatalogError {
    if constraint(&error) == Some("titles_slug_key") { CatalogError::SlugTaken } else { error.into() }
}

pub(crate) async fn insert(pool: &PgPool, f: &TitleFields) -> Result<pb::Title, CatalogError> {
    let query = concat!(
        "INSERT INTO catalog.titles (id, slug, title, synopsis, release_year, runtime_secs, maturity_rating,
            genres, tags, credits, credit_names, poster_url, backdrop_url, asset_id, downloadable, kind)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING ",
        columns!()
    );
    let query = sqlx::query_as::<_, TitleRow>(query).bind(Uuid::new_v4());
    bind_editable(query, f).bind(f.kind.as_str()).fetch_one(pool).await.map(Into::into).map_err(slug_taken)
}

/// Replaces the fields; returns the title and the slug it had before (for the cache).
/// The kind cannot change: a series' seasons would be orphaned.
pub(crate) async fn update(pool: &PgPool, id: Uuid, f: &TitleFields) -> Result<(pb::Title, String), CatalogError> {
    let mut tx = pool.begin().await?;
    let before: Option<(String, String)> =
        sqlx::query_as("SELECT slug, kind FROM catalog.titles WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let (old_slug, kind) = before.ok_or(CatalogError::NotFound("title"))?;
    if kind != f.kind.as_str() {
        return Err(CatalogError::invalid("fields.kind", "a title's kind cannot change"));
    }
    let query = concat!(
        "UPDATE catalog.titles SET slug = $2, title = $3, synopsis = $4, release_year = $5, runtime_secs = $6,
            maturity_rating = $7, genres = $8, tags = $9, credits = $10, credit_names = $11, poster_url = $12,
            backdrop_url = $13, asset_id = $14, downloadable = $15, updated_at = now()
         WHERE id = $1 RETURNING ",
        columns!()
    );
    let title = bind_editable(sqlx::query_as::<_, TitleRow>(query).bind(id), f)
        .fetch_one(&mut *tx)
        .await
        .map_err(slug_taken)?;
    tx.commit().await?;
    Ok((title.into(), old_slug))
}

/// Publishing stamps `published_at` the first time only, so re-publishing does not
/// push an old title to the top of "newest".
pub(crate) async fn set_visibility(pool: &PgPool, id: Uuid, visibility: Visibility) -> Result<pb::Title, CatalogError> {
    let query = concat!(
        "UPDATE catalog.titles SET visibility = $2, updated_at = now(),
            published_at = CASE WHEN $2 = 'published' THEN coalesce(published_at, now()) ELSE published_at END
         WHERE id = $1 RETURNING ",
        columns!()
    );
    let mut tx = pool.begin().await?;
    let before: Option<String> = sqlx::query_scalar("SELECT visibility FROM catalog.titles WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let before = before.ok_or(CatalogError::NotFound("title"))?;
    let title: pb::Title =
        sqlx::query_as::<_, TitleRow>(query).bind(id).bind(visibility.as_str()).fetch_one(&mut *tx).await?.into();
    // `title.published` when it becomes visible to everyone, in the same transaction.
    if visibility == Visibility::Published && before != Visibility::Published.as_str() {
        let fields = title.fields.clone().unwrap_or_default();
        let kind = if fields.kind == pb::Kind::Series as i32 { "series" } else { "movie" };
        let data = serde_json::json!({
            "title_id": title.id, "slug": fields.slug, "title": fields.title, "kind": kind,
            "asset_id": fields.asset_id, "published_at": title.published_at,
        });
        ottr_runtime::webhooks::enqueue(&mut tx, "title.published", data).await?;
    }
    tx.commit().await?;
    Ok(title)
}

pub(crate) async fn get(executor: impl PgExecutor<'_>, id: Uuid) -> Result<Option<pb::Title>, CatalogError> {
    let query = concat!("SELECT ", columns!(), " FROM catalog.titles WHERE id = $1");
    Ok(sqlx::query_as::<_, TitleRow>(query).bind(id).fetch_optional(executor).await?.map(Into::into))
}

pub(crate) async fn get_by_slug(pool: &PgPool, slug: &str) -> Result<Option<pb::Title>, CatalogError> {
    let query = concat!("SELECT ", columns!(), " FROM catalog.titles WHERE slug = $1");
    Ok(sqlx::query_as::<_, TitleRow>(query).bind(slug).fetch_optional(pool).await?.map(Into::into))
}

/// Newest first, after the row whose sort key is `after`; one more than `limit` when
/// there is a next page.
pub(crate) async fn list(
    pool: &PgPool,
    scope: Scope,
    limit: Option<i32>,
    genre: Option<&str>,
    kind: Option<Kind>,
    after: Option<(i64, Uuid)>,
    page_limit: i64,
) -> Result<Vec<TitleRow>, CatalogError> {
    let query = concat!(
        "SELECT ",
        columns!(),
        " FROM catalog.titles
         WHERE ($1 = 'staff' OR visibility = 'published')
           AND ($2::text IS NULL OR genres @> ARRAY[$2::text])
           AND ($3::text IS NULL OR kind = $3)
           AND ($4::timestamptz IS NULL OR (sort_at, id) < ($4, $5))
           AND ($7::integer IS NULL OR catalog.maturity_level(maturity_rating) <= $7)
         ORDER BY sort_at DESC, id DESC
         LIMIT $6"
    );
    let rows = sqlx::query_as::<_, TitleRow>(query)
        .bind(scope.as_str())
        .bind(genre)
        .bind(kind.map(Kind::as_str))
        .bind(after.map(|(at, _)| from_micros(at)))
        .bind(after.map(|(_, id)| id))
        .bind(page_limit)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows)
}

/// Titles by id, in the order given, skipping missing ones.
pub(crate) async fn get_many(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<pb::Title>, CatalogError> {
    let query = concat!(
        "SELECT ",
        columns!(),
        " FROM catalog.titles t JOIN unnest($1::uuid[]) WITH ORDINALITY AS wanted(id, n) USING (id)
         ORDER BY wanted.n"
    );
    let rows = sqlx::query_as::<_, TitleRow>(query).bind(ids).fetch_all(pool).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
