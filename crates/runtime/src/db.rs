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
