//! Settings of the auth service. Token issuer and audience come from the shared
//! `[tokens]` section, because every verifier must agree with them.

use serde::Deserialize;

use ottr_runtime::{client_addr::NetworkSettings, config::ListenSettings};

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
    pub hashing: HashingSettings,
    /// Which peers may name the caller's address (the edges, a load balancer).
    pub network: NetworkSettings,
    /// A spent refresh token presented again within this many seconds of its exchange is
    /// a racing tab of the same browser, not a thief: it gets a new token in the same
    /// family. Later reuse revokes the family. 0 turns the grace off.
    pub refresh_grace_secs: i64,
    /// TV sign-in (RFC 8628's device flow).
    pub device: DeviceSettings,
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
            hashing: HashingSettings::default(),
            network: NetworkSettings::default(),
            refresh_grace_secs: 30,
            device: DeviceSettings::default(),
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
    /// Registrations per client address per window: each costs an argon2 hash.
    pub max_registrations_per_address: i64,
    /// TV sign-in codes asked for per client address per window.
    pub max_device_codes_per_address: i64,
    /// Wrong user codes entered per account, and per client address across accounts, per
    /// window. A user code has 20^8 values, so 10 guesses per 15 minutes find one of a
    /// thousand live codes about once in 2.5 million windows.
    pub max_wrong_user_codes_per_account: i64,
    pub max_wrong_user_codes_per_address: i64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            window_secs: 900,
            max_failures_per_account: 10,
            max_failures_per_address: 50,
            max_registrations_per_address: 20,
            max_device_codes_per_address: 20,
            max_wrong_user_codes_per_account: 10,
            max_wrong_user_codes_per_address: 50,
        }
    }
}

/// The bound on concurrent argon2 work (see `hashing`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct HashingSettings {
    /// Hashes running at once; each holds 19 MiB and a core. Default: the core count.
    pub max_concurrent: usize,
    /// How long a sign-in or registration waits for a turn before `server_busy`.
    pub queue_timeout_ms: u64,
}

impl Default for HashingSettings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self { max_concurrent: cores, queue_timeout_ms: 5_000 }
    }
}

/// TV sign-in: how long codes live, how often devices poll, and where viewers confirm.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct DeviceSettings {
    /// The web app's page where a signed-in viewer enters the code, shown by the device.
    /// Auth cannot know the public address, so it is a setting; empty means
    /// [`DEFAULT_VERIFICATION_URI`], and `ottr serve`/`ottr up` fill it in from
    /// `edge.public_url` (or the edge's listen address) when it is empty.
    pub verification_uri: String,
    /// How long a pair of codes lives (RFC 8628 suggests minutes).
    pub code_ttl_secs: i64,
    /// Seconds a device waits between polls; polling sooner gets `slow_down`.
    pub interval_secs: i64,
}

/// The web app's activation page on the edge's default address.
pub const DEFAULT_VERIFICATION_URI: &str = "http://127.0.0.1:8080/#/activate";

impl Default for DeviceSettings {
    fn default() -> Self {
        Self { verification_uri: String::new(), code_ttl_secs: 600, interval_secs: 5 }
    }
}

impl DeviceSettings {
    /// The configured page, or the default one.
    pub fn verification_uri(&self) -> &str {
        if self.verification_uri.is_empty() { DEFAULT_VERIFICATION_URI } else { &self.verification_uri }
    }
}
