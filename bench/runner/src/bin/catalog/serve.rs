//! Starts what one side of a catalog comparison talks to: auth and a catalog service with
//! the given settings, on port 0, on a shared scratch database, each with a Redis prefix of
//! its own so one side's cache never answers for the other.

use std::sync::Arc;

use ottr_runtime::{
    config::{DatabaseSettings, ListenSettings, RedisSettings, TokenSettings},
    db,
    redis::Redis,
    token::{Revocations, TokenVerifier},
};
use tonic::transport::Channel;

/// Where a started pair answers.
pub struct Services {
    pub auth_url: String,
    pub catalog_url: String,
}

impl Services {
    /// `count` channels to the catalog, so requests spread over connections as many
    /// clients' would.
    pub async fn channels(&self, count: usize) -> anyhow::Result<Vec<Channel>> {
        let mut channels = Vec::with_capacity(count);
        for _ in 0..count {
            channels.push(Channel::from_shared(self.catalog_url.clone())?.connect().await?);
        }
        Ok(channels)
    }
}

/// Starts auth and a catalog with `settings` (its listen address is replaced by port 0).
pub async fn start(database: &DatabaseSettings, settings: ottr_catalog::CatalogSettings) -> anyhow::Result<Services> {
    let pool = db::pool(database)?;
    let redis_settings =
        RedisSettings { key_prefix: format!("ottr-bench:{}:", uuid::Uuid::new_v4()), ..Default::default() };
    let redis = Redis::connect(&redis_settings)?;
    let auth = ottr_auth::Application::build(
        &ottr_auth::AuthSettings { listen: ListenSettings::new("127.0.0.1", 0), ..Default::default() },
        &TokenSettings::default(),
        ottr_auth::Dependencies { pool: pool.clone(), redis: redis.clone() },
    )
    .await?;
    let tokens = TokenSettings { auth_url: format!("http://127.0.0.1:{}", auth.port()), ..Default::default() };
    tokio::spawn(auth.run_until_stopped(std::future::pending()));
    let settings = ottr_catalog::CatalogSettings { listen: ListenSettings::new("127.0.0.1", 0), ..settings };
    let verifier = Arc::new(TokenVerifier::from_settings(&tokens, Revocations::new(redis.clone()))?);
    let catalog =
        ottr_catalog::Application::build(&settings, ottr_catalog::Dependencies { pool, redis, verifier }).await?;
    let catalog_url = format!("http://127.0.0.1:{}", catalog.port());
    tokio::spawn(catalog.run_until_stopped(std::future::pending()));
    Ok(Services { auth_url: tokens.auth_url, catalog_url })
}
