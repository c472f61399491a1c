//! Title search: every word of the query, as a prefix, across title, credits and synopsis
//! (PostgreSQL full text); and, when it forgives, each word may also be one of the catalog's
//! own words that it looks like (pg_trgm similarity against `catalog.search_words`, through
//! its trigram index), so `strnger thngs` becomes `(strnger:* | stranger) & (thngs:* | things)`
//! and still needs every word, in any order.
//!
//! Scores place every title in one of three tiers, so one keyset `(score, id)` pages through
//! them all and each title comes back once, in its best tier:
//! - matches of the words as typed, exactly as the full-text search ranks them: `ts_rank`,
//!   plus 1 when the title itself matches (0 to 2);
//! - matches only through corrections, in the title: -2 plus the trigram similarity of the
//!   query to the title, so the title closest to what was typed comes first (-2 to -1);
//! - the other matches through corrections (some word only in credits or synopsis): -3 plus
//!   `ts_rank` (-3 to -2).

use sqlx::PgPool;
use uuid::Uuid;

use super::TitleRow;
use crate::{CatalogError, domain::Scope};

/// How alike a catalog word must be to a typed word to stand in for it (pg_trgm similarity:
/// trigrams shared over trigrams of either word). pg_trgm's own default: one dropped or
/// changed letter in a word of five letters still passes (`fnal` → `final` 0.38, `tjred` →
/// `tired` 0.33, `thngs` → `things` 0.44, `godfater` → `godfather` 0.58), and a different
/// word that only shares a beginning does not (`harbor` → `harlem` 0.27, `silent` → `silver`
/// 0.27). On bench/catalog's misspelt queries, 0.4 found the title on the first page for 43%
/// of them, 0.3 for 77%. The index lookup (`%`) stops at `pg_trgm.similarity_threshold`,
/// which must stay at its default or below for this to hold.
const MIN_SIMILARITY: f32 = 0.3;

/// Only words about as close as the closest stand in: `godfater` is `godfather` (0.58) and
/// not also some `Gater` in the credits (0.36), and a word the catalog has as typed (1.0) is
/// not corrected at all. On the same queries this cut a sixth of the results and lost almost
/// none of the titles found (76.7% against 77.3%).
const CLOSEST_MARGIN: f32 = 0.1;

/// Corrections offered per typed word, the closest first: enough for a word with several
/// near neighbours, few enough to keep the query small.
const CORRECTIONS_PER_WORD: i64 = 5;

/// Words shorter than this are neither corrected nor corrections: with three letters or
/// fewer, one typo changes most of a word's trigrams, so a correction would be a guess (and
/// a prefix already matches them as they are typed); and `thef` corrected to `the`, in
/// nearly every synopsis, made one bench query 15 times slower than the others.
const MIN_CORRECTED_CHARS: i32 = 4;

/// A lexeme as a quoted tsquery term (quote doubled, backslash escaped): nothing typed is
/// ever read as tsquery syntax, even when folding turns a letter into punctuation (`ʼ` into
/// `'`, `⑴` into `(1)`).
macro_rules! quoted {
    ($lexeme:literal) => {
        concat!(r"('''' || replace(replace(", $lexeme, r", '\', '\\'), '''', '''''') || '''')")
    };
}

/// The typed words, folded and split by the same parser that built the documents. No word at
/// all gives NULL queries, which match nothing.
macro_rules! typed_words {
    () => {
        concat!(
            "words AS (
                SELECT lexeme, ",
            quoted!("lexeme"),
            " AS quoted FROM unnest(tsvector_to_array(to_tsvector('simple', catalog.fold($1)))) AS lexeme
            )"
        )
    };
}

/// The score of a match of the words as typed.
macro_rules! typed_score {
    () => {
        "ts_rank(t.search_doc, q.typed) + CASE WHEN t.search_title @@ q.typed THEN 1 ELSE 0 END"
    };
}

/// Published titles only for viewers, and within a kids profile's maturity limit.
macro_rules! visible {
    () => {
        "($2 = 'staff' OR t.visibility = 'published')
           AND ($6::integer IS NULL OR catalog.maturity_level(t.maturity_rating) <= $6)"
    };
}

/// What follows the matches: the page after the page token, best first.
macro_rules! page {
    () => {
        " ) ranked
         WHERE $3::real IS NULL OR (score, id) < ($3, $4)
         ORDER BY score DESC, id DESC
         LIMIT $5"
    };
}

/// Every word as typed, each a prefix.
const TYPED: &str = concat!(
    "WITH ",
    typed_words!(),
    ", q AS (SELECT string_agg(quoted || ':*', ' & ')::tsquery AS typed FROM words)
     SELECT ",
    columns!(),
    ", score FROM (
        SELECT t.*, (",
    typed_score!(),
    ")::real AS score
        FROM catalog.titles t, q
        WHERE t.search_doc @@ q.typed AND ",
    visible!(),
    page!()
);

/// Every word as typed or as one of its corrections: `(typed:* | correction | …) & …`.
const FORGIVING: &str = concat!(
    "WITH ",
    typed_words!(),
    ", terms AS (
        SELECT w.quoted || ':*' AS typed, (
            SELECT string_agg(",
    quoted!("known.word"),
    ", ' | ')
            FROM (
                SELECT word FROM (
                    SELECT v.word, similarity(v.word, w.lexeme) AS near, max(similarity(v.word, w.lexeme)) OVER () AS best
                    FROM catalog.search_words v
                    WHERE char_length(w.lexeme) >= $9 AND char_length(v.word) >= $9
                      AND v.word % w.lexeme AND similarity(v.word, w.lexeme) >= $7
                ) candidates
                WHERE near >= best - $10
                ORDER BY near DESC, word
                LIMIT $8
            ) known
        ) AS corrections
        FROM words w
     ), q AS (
        SELECT string_agg(typed, ' & ')::tsquery AS typed,
               string_agg('(' || concat_ws(' | ', typed, corrections) || ')', ' & ')::tsquery AS forgiving
        FROM terms
     )
     SELECT ",
    columns!(),
    ", score FROM (
        SELECT t.*, (CASE
            WHEN t.search_doc @@ q.typed THEN ",
    typed_score!(),
    "
            WHEN t.search_title @@ q.forgiving THEN similarity(catalog.fold($1), catalog.fold(t.title)) - 2
            ELSE least(ts_rank(t.search_doc, q.forgiving), 1) - 3
        END)::real AS score
        FROM catalog.titles t, q
        WHERE t.search_doc @@ q.forgiving AND ",
    visible!(),
    page!()
);

/// Titles matching every word, ranked in the tiers above, within `maturity` (a kids
/// profile's limit) when given; `forgiving` adds the corrected tiers. Returns rows with
/// their score, for page tokens.
pub(crate) async fn search(
    pool: &PgPool,
    scope: Scope,
    maturity: Option<i32>,
    words: &[String],
    after: Option<(f32, Uuid)>,
    limit: i64,
    forgiving: bool,
) -> Result<Vec<(TitleRow, f32)>, CatalogError> {
    let query = sqlx::query(if forgiving { FORGIVING } else { TYPED })
        .bind(words.join(" "))
        .bind(scope.as_str())
        .bind(after.map(|(score, _)| score))
        .bind(after.map(|(_, id)| id))
        .bind(limit)
        .bind(maturity);
    let query = if forgiving {
        query.bind(MIN_SIMILARITY).bind(CORRECTIONS_PER_WORD).bind(MIN_CORRECTED_CHARS).bind(CLOSEST_MARGIN)
    } else {
        query
    };
    let rows = query.fetch_all(pool).await?;
    rows.into_iter()
        .map(|row| {
            use sqlx::{FromRow, Row};
            Ok((TitleRow::from_row(&row)?, row.try_get::<f32, _>("score")?))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
