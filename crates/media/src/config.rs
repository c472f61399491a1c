//! Settings of the media service.

use std::path::PathBuf;

use serde::Deserialize;

use ottr_runtime::config::ListenSettings;
use ottr_storage::StorageSettings;

use crate::{
    probe::Limits,
    transcode::{download::DownloadSettings, loudness::LoudnessTarget, rate::Encoder},
    webhooks::WebhookSettings,
};

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct MediaSettings {
    pub listen: ListenSettings,
    /// `OTTR__MEDIA__STORAGE__*`: the store media writes sources, ladders and images to.
    pub storage: StorageSettings,
    /// Where sources are staged and ffmpeg writes before upload; cleaned on every path.
    pub work_dir: PathBuf,
    pub limits: LimitSettings,
    /// `OTTR__MEDIA__UPLOADS__*`: resumable and direct uploads.
    pub uploads: UploadSettings,
    pub worker: WorkerSettings,
    pub audio: AudioSettings,
    /// `OTTR__MEDIA__VIDEO__PRESET`, `…__CRF`: how every rung is encoded.
    pub video: Encoder,
    /// `OTTR__MEDIA__DOWNLOADS__ENABLED`, `…__MAX_LINES`: the MP4 made beside the ladder.
    pub downloads: DownloadSettings,
    /// `OTTR__MEDIA__WEBHOOKS__*`: who may be sent webhooks, and how retries go.
    pub webhooks: WebhookSettings,
}

impl Default for MediaSettings {
    fn default() -> Self {
        Self {
            listen: ListenSettings::new("127.0.0.1", 50053),
            storage: StorageSettings::default(),
            work_dir: std::env::temp_dir().join("ottr-media"),
            limits: LimitSettings::default(),
            uploads: UploadSettings::default(),
            worker: WorkerSettings::default(),
            audio: AudioSettings::default(),
            video: Encoder::default(),
            downloads: DownloadSettings::default(),
            webhooks: WebhookSettings::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default)]
pub struct LimitSettings {
    pub max_upload_bytes: u64,
    pub max_duration_secs: u64,
    /// 4096x2160 by default; also passed to ffmpeg as `-max_pixels`.
    pub max_pixels: u64,
    pub max_streams: usize,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            max_upload_bytes: 50 * 1024 * 1024 * 1024,
            max_duration_secs: 6 * 3600,
            max_pixels: 4096 * 2160,
            max_streams: 16,
        }
    }
}

impl LimitSettings {
    pub fn probe_limits(&self) -> Limits {
        Limits { max_duration_secs: self.max_duration_secs, max_pixels: self.max_pixels, max_streams: self.max_streams }
    }
}

/// How resumable uploads are kept: their bytes go to the store in parts of `part_mib`,
/// `parts_in_flight` at a time, so a writer holds at most about `part_mib` ×
/// (`parts_in_flight` + 1) in memory.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default)]
pub struct UploadSettings {
    pub part_mib: u64,
    pub parts_in_flight: usize,
    /// An unfinished upload is gone this long after creation (tus `Upload-Expires`).
    pub expiry_secs: u64,
    /// How often expired uploads are aborted and forgotten.
    pub sweep_secs: u64,
    /// Bytes one user's unfinished uploads may declare, all together.
    pub quota_bytes: u64,
    /// How long a direct upload URL works unless its creator asks for less, and the most
    /// it may be asked for.
    pub direct_expiry_secs: u64,
    pub direct_max_expiry_secs: u64,
    /// How long the presigned URL ffprobe reads a stored source through lives.
    pub probe_url_secs: u64,
    /// Upload requests writing at once per media process; more get `server_busy`. Each
    /// holds a PostgreSQL connection of its own (outside the pool) for its lock.
    pub max_writers: usize,
    /// A request whose client sends nothing for this long is given up (what was stored
    /// stays), so a stalled connection does not hold its upload.
    pub idle_secs: u64,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            part_mib: 8,
            parts_in_flight: 2,
            expiry_secs: 24 * 3600,
            sweep_secs: 600,
            quota_bytes: 100 * 1024 * 1024 * 1024,
            direct_expiry_secs: 3600,
            direct_max_expiry_secs: 7 * 24 * 3600,
            probe_url_secs: 600,
            max_writers: 32,
            idle_secs: 60,
        }
    }
}

/// `OTTR__MEDIA__AUDIO__*`: which audio streams are kept, and how loud they are made.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default)]
pub struct AudioSettings {
    /// Audio streams kept per source; the rest are left out with a note on the asset.
    pub max_streams: usize,
    /// Keep a 5.1 rendition beside the stereo downmix of each 5.1 stream.
    pub surround: bool,
    /// `OTTR__MEDIA__AUDIO__LOUDNESS__INTEGRATED_LUFS=-23` for EBU R128 broadcast level.
    pub loudness: LoudnessTarget,
}

impl Default for AudioSettings {
    fn default() -> Self {
        Self { max_streams: 8, surround: false, loudness: LoudnessTarget::default() }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct WorkerSettings {
    /// Jobs this process runs at once; 0 means one per two cores (at least one), since one
    /// ffmpeg ladder keeps about two cores busy.
    pub concurrency: usize,
    /// 0 runs no worker in this process (API only).
    pub enabled: bool,
    pub lease_secs: i64,
    pub heartbeat_secs: u64,
    pub max_attempts: i32,
    /// Base of the exponential backoff between attempts.
    pub retry_base_secs: i64,
    /// ffmpeg is killed when its progress does not advance for this long.
    pub watchdog_secs: u64,
    /// And when one attempt runs longer than this, whatever its progress.
    pub hard_cap_secs: u64,
    /// How often an idle worker looks for work.
    pub poll_ms: u64,
    /// Redis pub/sub channel prefix is taken from the Redis settings; progress is
    /// published at most this often.
    pub progress_interval_ms: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 0,
            enabled: true,
            lease_secs: 60,
            heartbeat_secs: 10,
            max_attempts: 3,
            retry_base_secs: 10,
            watchdog_secs: 120,
            hard_cap_secs: 6 * 3600,
            poll_ms: 1000,
            progress_interval_ms: 500,
        }
    }
}

impl WorkerSettings {
    pub fn effective_concurrency(&self) -> usize {
        match self.concurrency {
            0 => (std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) / 2).max(1),
            n => n,
        }
    }
}
