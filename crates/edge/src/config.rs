//! Settings of the edge.

use secrecy::SecretString;
use serde::Deserialize;

use ottr_runtime::{client_addr::NetworkSettings, config::ListenSettings};
use ottr_storage::StorageSettings;

use crate::limits::LimitSettings;

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct EdgeSettings {
    pub listen: ListenSettings,
    /// When set, `/metrics` is served here (an internal address) and no longer on `listen`.
    pub metrics_listen: Option<ListenSettings>,
    /// Which peers may say who the caller is (`X-Forwarded-For`); loopback by default.
    pub network: NetworkSettings,
    pub limits: LimitSettings,
    /// The URL browsers reach the edge at, for absolute links; empty means `http://host:port`.
    pub public_url: String,
    pub auth_url: String,
    pub catalog_url: String,
    pub media_url: String,
    pub playback: PlaybackSettings,
    /// `OTTR__EDGE__STORAGE__*`: the store media writes to, which the edge opens read-only
    /// (read permission is enough). When the section is absent the media section
    /// (`OTTR__MEDIA__STORAGE__*`) is used, as before the edge had its own; see
    /// [`EdgeSettings::storage_or`].
    pub storage: Option<StorageSettings>,
    /// Origins allowed by CORS; `*` allows any.
    pub cors_origins: Vec<String>,
    /// Bytes of immutable HLS objects (segments, init segments, images) kept in memory.
    pub hls_cache_bytes: usize,
    /// How long an object is served from that memory before storage is asked again: the
    /// longest a deleted asset keeps playing from another edge instance's memory.
    pub hls_cache_secs: u64,
    /// Refused up front, before a byte is received (media has its own limit, and the
    /// expiry and quota of unfinished uploads: `OTTR__MEDIA__UPLOADS__*`).
    pub max_upload_bytes: u64,
    /// A tus PATCH's whole parts go from the edge straight to the object store, by URLs
    /// media presigns for each (S3 only; media keeps the upload's state and checks every
    /// part against the store). Off: every byte goes through media.
    pub parts_to_store: bool,
    /// The web app's files are inside the binary; for development, a folder to serve
    /// them from instead (`web/` of the checkout). Empty: the embedded app.
    pub web_dir: std::path::PathBuf,
    /// hls.js and tus-js-client as npm installed them, instead of the embedded copies.
    /// Empty: the embedded ones.
    pub hls_js: std::path::PathBuf,
    pub tus_js: std::path::PathBuf,
    /// How long requests still running at a stop (uploads, progress streams) get to
    /// finish before the server returns anyway.
    pub drain_limit_secs: u64,
}

impl Default for EdgeSettings {
    fn default() -> Self {
        Self {
            listen: ListenSettings::new("127.0.0.1", 8080),
            metrics_listen: None,
            network: NetworkSettings::default(),
            limits: LimitSettings::default(),
            public_url: String::new(),
            auth_url: "http://127.0.0.1:50051".into(),
            catalog_url: "http://127.0.0.1:50052".into(),
            media_url: "http://127.0.0.1:50053".into(),
            playback: PlaybackSettings::default(),
            storage: None,
            cors_origins: vec!["*".into()],
            hls_cache_bytes: 256 * 1024 * 1024,
            hls_cache_secs: 60,
            max_upload_bytes: 50 * 1024 * 1024 * 1024,
            parts_to_store: true,
            web_dir: Default::default(),
            hls_js: Default::default(),
            tus_js: Default::default(),
            // The same bound the gRPC servers have (`ottr_runtime::grpc::DRAIN_LIMIT`).
            drain_limit_secs: ottr_runtime::grpc::DRAIN_LIMIT.as_secs(),
        }
    }
}

impl EdgeSettings {
    /// The edge's own storage section, else the one media writes with.
    pub fn storage_or<'a>(&'a self, media: &'a StorageSettings) -> &'a StorageSettings {
        self.storage.as_ref().unwrap_or(media)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct PlaybackSettings {
    /// Signs playback URLs: at least 32 bytes, the same on every edge of a deployment.
    /// The edge refuses to start without one; only `ottr up` makes a random one.
    pub secret: SecretString,
    pub ttl_secs: i64,
    /// The longest a playback URL may live, whatever `ttl_secs` says: whoever holds the
    /// secret can mint URLs, and this bounds how long any of them works.
    pub max_ttl_secs: i64,
    /// Storage reads (segments, playlists, images) running at once; the rest wait.
    pub max_concurrent_reads: usize,
}

impl Default for PlaybackSettings {
    fn default() -> Self {
        Self { secret: SecretString::from(""), ttl_secs: 4 * 3600, max_ttl_secs: 24 * 3600, max_concurrent_reads: 64 }
    }
}

/// The shortest secret accepted: 256 bits, the HMAC-SHA256 key size.
pub const MIN_SECRET_BYTES: usize = 32;

/// Placeholders shipped in examples; a deployment that kept one signs URLs anyone can forge.
const PLACEHOLDERS: &[&str] = &["change-me", "changeme", "replace-me"];

impl PlaybackSettings {
    /// The secret's bytes, or why it cannot sign anything.
    pub fn secret_bytes(&self) -> Result<Vec<u8>, String> {
        use secrecy::ExposeSecret;
        let secret = self.secret.expose_secret();
        let lowered = secret.to_ascii_lowercase();
        if secret.is_empty() {
            return Err("no playback secret: set OTTR__EDGE__PLAYBACK__SECRET (e.g. `openssl rand -hex 32`)".into());
        }
        if PLACEHOLDERS.iter().any(|p| lowered.starts_with(p)) {
            return Err("the playback secret is the example's placeholder: set a random one".into());
        }
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the playback secret has {} bytes; at least {MIN_SECRET_BYTES} are needed",
                secret.len()
            ));
        }
        Ok(secret.as_bytes().to_vec())
    }

    /// A random secret, for `ottr up` alone: one process, so nothing else has to share it,
    /// and URLs it signed stop working when it restarts.
    pub fn generate_secret() -> SecretString {
        let mut random = [0u8; MIN_SECRET_BYTES];
        aws_lc_rs::rand::fill(&mut random).expect("the system has randomness");
        random.iter().map(|b| format!("{b:02x}")).collect::<String>().into()
    }

    /// The lifetime given to new playback URLs.
    pub fn effective_ttl_secs(&self) -> i64 {
        self.ttl_secs.clamp(1, self.max_ttl_secs.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::PlaybackSettings;

    fn with(secret: &str) -> Result<Vec<u8>, String> {
        PlaybackSettings { secret: secret.to_owned().into(), ..Default::default() }.secret_bytes()
    }

    #[test]
    fn placeholders_short_and_empty_secrets_are_refused() {
        assert!(with("").is_err());
        assert!(with("change-me-to-a-long-random-secret").is_err());
        assert!(with("CHANGE-ME-and-then-some-more-bytes-to-be-long").is_err());
        assert!(with("0123456789abcdef0123456789abcde").is_err());
        assert!(with("0123456789abcdef0123456789abcdef").is_ok());
    }

    #[test]
    fn the_lifetime_is_capped() {
        let settings = PlaybackSettings { ttl_secs: 10 * 365 * 86400, max_ttl_secs: 3600, ..Default::default() };
        assert_eq!(settings.effective_ttl_secs(), 3600);
    }
}
