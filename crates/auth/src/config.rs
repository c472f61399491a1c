//! Settings of the auth service. Token issuer and audience come from the shared
//! `[tokens]` section, because every verifier must agree with them.

use serde::Deserialize;

use ottr_runtime::config::ListenSettings;

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    pub listen: ListenSettings,
    /// Lifetime of access tokens, capped at 15 minutes whatever is configured.
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
    /// How long after a rotation the new key starts signing. It is published at once;
    /// this must exceed every verifier's refetch interval so they fetch it in time.
    pub rotation_delay_secs: i64,
    /// How long the current signing key is cached before the database is asked again.
    pub key_cache_secs: u64,
    pub throttle: ThrottleSettings,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            listen: ListenSettings::new("127.0.0.1", 50051),
            access_ttl_secs: 900,
            refresh_ttl_secs: 30 * 24 * 3600,
            rotation_delay_secs: 60,
            key_cache_secs: 10,
            throttle: ThrottleSettings::default(),
        }
    }
}

/// Failed-login limits, counted in Redis over a fixed window.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct ThrottleSettings {
    pub window_secs: i64,
    /// Per account. 10 per 15 minutes keeps any account under 100 failures an hour
    /// (OWASP ASVS 2.2.1).
    pub max_failures_per_account: i64,
    /// Per client address, across accounts: stops one address from spraying many.
    pub max_failures_per_address: i64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self { window_secs: 900, max_failures_per_account: 10, max_failures_per_address: 50 }
    }
}
