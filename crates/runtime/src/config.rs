//! Layered configuration: defaults in code, then an optional TOML file, then
//! `OTTR__SECTION__KEY` environment variables. Settings are passed explicitly, never read
//! from a global, so tests can change any of them.

use std::{net::SocketAddr, path::Path};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, de::DeserializeOwned};

/// Reads settings of type `T` from the layers, the file (if any) before the environment.
pub fn load<T: DeserializeOwned>(file: Option<&Path>) -> Result<T, config::ConfigError> {
    let mut builder = config::Config::builder();
    if let Some(file) = file {
        builder = builder.add_source(config::File::from(file).required(true));
    }
    builder
        .add_source(config::Environment::with_prefix("OTTR").prefix_separator("__").separator("__").try_parsing(true))
        .build()?
        .try_deserialize()
}

/// Where a server listens. Port 0 asks the OS for a free one (tests do).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct ListenSettings {
    pub host: String,
    pub port: u16,
}

impl ListenSettings {
    pub fn new(host: &str, port: u16) -> Self {
        Self { host: host.into(), port }
    }

    pub fn addr(&self) -> std::io::Result<SocketAddr> {
        use std::net::ToSocketAddrs;
        (self.host.as_str(), self.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other(format!("{} resolves to no address", self.host)))
    }
}

impl Default for ListenSettings {
    fn default() -> Self {
        Self::new("127.0.0.1", 0)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// May hold a password, so it never prints.
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "postgres://postgres:postgres@127.0.0.1:5432/ottr".into(),
            max_connections: 10,
            acquire_timeout_secs: 5,
        }
    }
}

impl DatabaseSettings {
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct RedisSettings {
    /// May hold a password, so it never prints.
    pub url: SecretString,
    /// Prepended to every key, so deployments and tests sharing a server never collide.
    pub key_prefix: String,
    /// Redis is a cache and a throttle here, never the source of truth: a slow call
    /// gives up quickly and the caller degrades instead of waiting.
    pub command_timeout_ms: u64,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self { url: "redis://127.0.0.1:6379".into(), key_prefix: "ottr:".into(), command_timeout_ms: 250 }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct TelemetrySettings {
    /// `pretty` for people, `json` for log collectors.
    pub format: String,
    /// An `EnvFilter` directive; `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self { format: "pretty".into(), filter: "info,sqlx=warn".into() }
    }
}

/// How services verify access tokens issued by auth.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    /// Where the JWKS is fetched from: auth's gRPC endpoint.
    pub auth_url: String,
    /// At most one refetch of the JWKS per this many seconds when an unknown `kid` arrives,
    /// so a flood of forged tokens cannot turn into a flood of JWKS requests.
    pub refetch_interval_secs: u64,
    /// Keys are refetched after this long even when no unknown `kid` was seen.
    pub max_age_secs: u64,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            issuer: "ottr".into(),
            audience: "ottr".into(),
            auth_url: "http://127.0.0.1:50051".into(),
            refetch_interval_secs: 30,
            max_age_secs: 300,
        }
    }
}
