//! The catalog schema's queries. Constraint violations are mapped where the query is made.

pub(crate) mod library;
pub(crate) mod progress;
pub(crate) mod removal;
pub(crate) mod series;
pub(crate) mod titles;
pub(crate) mod views;

use time::OffsetDateTime;

/// Timestamps travel in page tokens as whole microseconds, PostgreSQL's precision, so a
/// token compares exactly equal to the row it came from.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000) as i64
}

pub(crate) fn from_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The violated constraint's name, if the error is a constraint violation.
pub(crate) fn constraint(error: &sqlx::Error) -> Option<&str> {
    match error {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}
