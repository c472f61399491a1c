//! Settings of the edge.

use secrecy::SecretString;
use serde::Deserialize;

use ottr_runtime::config::ListenSettings;
use ottr_storage::StorageSettings;

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct EdgeSettings {
    pub listen: ListenSettings,
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
    /// Where resumable uploads are assembled before they go to media. A client resumes
    /// against the same edge (sticky sessions when there are several).
    pub upload_dir: std::path::PathBuf,
    /// Refused up front, before a byte is received.
    pub max_upload_bytes: u64,
    /// The web app's files (`web/` of the repository).
    pub web_dir: std::path::PathBuf,
    /// hls.js, as npm installed it.
    pub hls_js: std::path::PathBuf,
    /// How long requests still running at a stop (uploads, progress streams) get to
    /// finish before the server returns anyway.
    pub drain_limit_secs: u64,
}

impl Default for EdgeSettings {
    fn default() -> Self {
        Self {
            listen: ListenSettings::new("127.0.0.1", 8080),
            public_url: String::new(),
            auth_url: "http://127.0.0.1:50051".into(),
            catalog_url: "http://127.0.0.1:50052".into(),
            media_url: "http://127.0.0.1:50053".into(),
            playback: PlaybackSettings::default(),
            storage: None,
            cors_origins: vec!["*".into()],
            hls_cache_bytes: 256 * 1024 * 1024,
            upload_dir: std::env::temp_dir().join("ottr-edge-uploads"),
            max_upload_bytes: 50 * 1024 * 1024 * 1024,
            web_dir: "web".into(),
            hls_js: "node_modules/hls.js/dist/hls.min.js".into(),
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
    /// Signs playback URLs. Every edge of a deployment needs the same one; when empty, a
    /// random one is made at start (fine for one process, wrong for several).
    pub secret: SecretString,
    pub ttl_secs: i64,
}

impl Default for PlaybackSettings {
    fn default() -> Self {
        Self { secret: SecretString::from(""), ttl_secs: 4 * 3600 }
    }
}
