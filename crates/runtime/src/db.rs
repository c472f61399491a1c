//! PostgreSQL: the pool every service uses, and the migrations of every schema.

use std::time::Duration;

use sqlx::{
    PgPool,
    migrate::{MigrateDatabase, Migrator},
    postgres::PgPoolOptions,
};

use crate::config::DatabaseSettings;

/// Every service's schema, from the workspace's `migrations/` folder.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// A lazy pool: services start even while PostgreSQL is restarting, and connect on first use.
pub fn pool(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
        .connect_lazy(settings.url())
}

/// Creates the database when missing, then applies every pending migration.
pub async fn migrate(settings: &DatabaseSettings) -> Result<(), sqlx::Error> {
    if !sqlx::Postgres::database_exists(settings.url()).await? {
        sqlx::Postgres::create_database(settings.url()).await?;
    }
    let pool = pool(settings)?;
    MIGRATOR.run(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Whether a database error means the database is out of reach for now (restarting,
/// failing over, the network between), not that the request or the data is wrong: such
/// calls answer `unavailable` (503), which clients may retry, rather than `internal`.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // SQLSTATE class 08 (connection exception), and 57P01-57P03: the server is shutting
        // down, crashed or is not accepting connections yet.
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}
