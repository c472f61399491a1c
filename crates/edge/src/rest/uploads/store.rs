//! The upload file store: each upload is a spool file of the bytes received so far and an
//! info file beside it (`<id>.bin`, `<id>.json`) in `upload_dir`, plus which uploads a
//! PATCH is writing right now. A client resumes against the same edge (sticky sessions
//! when there are several).

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use tokio::fs;

use super::Info;
use crate::EdgeError;

/// Uploads in progress, and which of them a PATCH is writing right now.
pub(crate) struct Uploads {
    pub dir: PathBuf,
    pub max_bytes: u64,
    /// Seconds from creation to expiry.
    pub expiry_secs: i64,
    /// Bytes one owner's unfinished uploads may declare together.
    pub quota_bytes: u64,
    writing: Mutex<HashSet<String>>,
    /// Held from the quota check to the new info file, so two creations cannot both fit.
    creating: tokio::sync::Mutex<()>,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Every upload's info in `dir` (unreadable ones skipped).
async fn infos(dir: &Path) -> Vec<Info> {
    let mut found = Vec::new();
    let Ok(mut entries) = fs::read_dir(dir).await else { return found };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json")
            && let Ok(bytes) = fs::read(&path).await
            && let Ok(info) = serde_json::from_slice::<Info>(&bytes)
        {
            found.push(info);
        }
    }
    found
}

/// Deletes every upload in `dir` that expired before `now` (unix seconds), spool and info
/// file both; returns how many.
pub async fn sweep(dir: &Path, now: i64) -> usize {
    let mut swept = 0;
    for info in infos(dir).await {
        if info.expires_at != 0 && info.expires_at <= now {
            let _ = fs::remove_file(dir.join(format!("{}.bin", info.id))).await;
            let _ = fs::remove_file(dir.join(format!("{}.json", info.id))).await;
            swept += 1;
        }
    }
    swept
}

fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> EdgeError {
    move |error| EdgeError::internal(context, error)
}

impl Uploads {
    pub(crate) fn new(dir: PathBuf, max_bytes: u64, expiry_secs: u64, quota_bytes: u64) -> Arc<Self> {
        let expiry_secs = i64::try_from(expiry_secs).unwrap_or(i64::MAX / 2).max(1);
        Arc::new(Self {
            dir,
            max_bytes,
            expiry_secs,
            quota_bytes,
            writing: Mutex::default(),
            creating: tokio::sync::Mutex::default(),
        })
    }

    /// When an upload created now expires.
    pub(crate) fn expires_at(&self) -> i64 {
        now().saturating_add(self.expiry_secs)
    }

    /// Sweeps expired uploads every `every` for as long as the edge runs.
    pub(crate) fn sweep_periodically(self: &Arc<Self>, every: std::time::Duration) {
        let uploads = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(std::time::Duration::from_secs(1)));
            loop {
                tick.tick().await;
                let Some(uploads) = uploads.upgrade() else { return };
                let swept = sweep(&uploads.dir, now()).await;
                if swept > 0 {
                    tracing::info!(swept, "expired uploads deleted");
                }
            }
        });
    }

    /// The spool file of an upload's bytes.
    pub(crate) fn data(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.bin"))
    }

    fn info_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The upload, if it exists and belongs to `owner`; to anyone else it does not exist.
    pub(crate) async fn owned(&self, owner: &str, id: &str) -> Result<Info, EdgeError> {
        let found = async {
            uuid::Uuid::parse_str(id).ok()?; // ids are ours; anything else names no file
            serde_json::from_slice::<Info>(&fs::read(self.info_path(id)).await.ok()?).ok()
        };
        let expired = |info: &Info| info.expires_at != 0 && info.expires_at <= now();
        found.await.filter(|info| info.owner == owner && !expired(info)).ok_or(EdgeError::NotFound("no such upload"))
    }

    pub(crate) async fn save(&self, info: &Info) -> Result<(), EdgeError> {
        let json = serde_json::to_vec(info).map_err(|e| EdgeError::internal("encoding an upload's info", e))?;
        fs::write(self.info_path(&info.id), json).await.map_err(io("saving an upload's info"))
    }

    /// An empty spool file, and the info beside it, if the owner's unfinished uploads and
    /// this one together stay within the quota.
    pub(crate) async fn create(&self, info: &Info) -> Result<(), EdgeError> {
        let _creating = self.creating.lock().await;
        let in_flight: u64 = infos(&self.dir)
            .await
            .iter()
            .filter(|other| other.owner == info.owner && other.asset_id.is_empty())
            .filter(|other| other.expires_at == 0 || other.expires_at > now())
            .map(|other| other.length)
            .sum();
        if in_flight.saturating_add(info.length) > self.quota_bytes {
            return Err(EdgeError::UploadQuotaExceeded { quota: self.quota_bytes });
        }
        fs::create_dir_all(&self.dir).await.map_err(io("creating the upload folder"))?;
        fs::File::create(self.data(&info.id)).await.map_err(io("creating a spool file"))?;
        self.save(info).await
    }

    /// A spool file for a one-shot (multipart) upload, which has no info file.
    pub(crate) async fn spool_file(&self, id: &str) -> Result<fs::File, EdgeError> {
        fs::create_dir_all(&self.dir).await.map_err(io("creating the upload folder"))?;
        fs::File::create(self.data(id)).await.map_err(io("creating a spool file"))
    }

    /// The spool file, opened to append the next PATCH.
    pub(crate) async fn append(&self, id: &str) -> Result<fs::File, EdgeError> {
        fs::OpenOptions::new().append(true).open(self.data(id)).await.map_err(io("opening a spool file"))
    }

    /// Bytes received so far; all of them once the upload was handed to media.
    pub(crate) async fn offset(&self, info: &Info) -> Result<u64, EdgeError> {
        if !info.asset_id.is_empty() {
            return Ok(info.length);
        }
        Ok(fs::metadata(self.data(&info.id)).await.map_err(io("reading a spool file's size"))?.len())
    }

    /// Forgets the upload's bytes; the info file stays when `keep_info` (a finished upload
    /// still answers HEAD with its full length).
    pub(crate) async fn remove(&self, id: &str, keep_info: bool) {
        let _ = fs::remove_file(self.data(id)).await;
        if !keep_info {
            let _ = fs::remove_file(self.info_path(id)).await;
        }
    }

    /// Marks the upload as being written; a second writer at the same time is refused.
    pub(crate) fn lock(&self, id: &str) -> Result<Writing<'_>, EdgeError> {
        let mut writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        if !writing.insert(id.to_owned()) {
            return Err(EdgeError::UploadBusy);
        }
        Ok(Writing(self, id.to_owned()))
    }
}

/// Held while a PATCH writes; dropping it lets the next one in.
pub(crate) struct Writing<'a>(&'a Uploads, String);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.writing.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.1);
    }
}
