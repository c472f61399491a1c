//! Object storage: one interface, two implementations. S3 (any S3-compatible server,
//! through aws-sdk-s3) for deployments, the local filesystem as the embedded default.
//! Keys are laid out per asset (see [`keys`]) and carry their Content-Type.
//!
//! Media writes; the edge only reads, so it opens the store with
//! [`ObjectStore::open_read_only`], which needs no write permission and creates nothing.

pub mod feed;
pub mod keys;
mod local;
pub mod multipart;
mod s3;
mod settings;

use std::path::Path;

pub use local::LocalStore;
pub use multipart::{Part, PendingUpload, ReadLocation};
pub use s3::S3Store;
pub use settings::{S3Settings, StorageSettings};

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no object at {0}")]
    NotFound(String),
    #[error("the key {0:?} is not a valid object key")]
    BadKey(String),
    #[error("storage I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("S3: {0}")]
    S3(String),
    /// The server does not offer the call (s3s-fs has no ListMultipartUploads).
    #[error("the storage server does not implement {0}")]
    Unsupported(&'static str),
    #[error("unknown storage backend {0:?} (local or s3)")]
    UnknownBackend(String),
}

/// What `head` tells about an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    pub content_type: String,
}

/// A store of objects. An enum rather than a trait object: two implementations, async
/// methods, and no allocation per call.
#[derive(Clone)]
pub enum ObjectStore {
    Local(LocalStore),
    S3(S3Store),
}

macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            ObjectStore::Local($store) => $call,
            ObjectStore::S3($store) => $call,
        }
    };
}

impl ObjectStore {
    /// The store the settings name, for a writer: a missing S3 bucket is created (the
    /// embedded and test set-ups start without one).
    pub async fn open(settings: &StorageSettings) -> Result<Self, StorageError> {
        let store = Self::open_read_only(settings).await?;
        if let ObjectStore::S3(s3) = &store {
            s3.ensure_bucket().await?;
        }
        Ok(store)
    }

    /// The store the settings name, for a reader: no bucket is created and nothing is
    /// written or probed, so credentials allowed only to read objects are enough. A store
    /// that is not there shows up as missing objects on the first read.
    pub async fn open_read_only(settings: &StorageSettings) -> Result<Self, StorageError> {
        match settings.backend.as_str() {
            "local" => Ok(ObjectStore::Local(LocalStore::new(&settings.local_root))),
            "s3" => Ok(ObjectStore::S3(S3Store::connect(&settings.s3).await)),
            other => Err(StorageError::UnknownBackend(other.to_owned())),
        }
    }

    /// Streams a local file into the store; large files go up in parts.
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        keys::check(key)?;
        dispatch!(self, s => s.put_file(key, path).await)
    }

    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        keys::check(key)?;
        dispatch!(self, s => s.put_bytes(key, bytes).await)
    }

    /// A whole (small) object: playlists, captions.
    pub async fn get_bytes(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        keys::check(key)?;
        dispatch!(self, s => s.get_bytes(key).await)
    }

    /// Bytes `start..=end` (to the end when `end` is `None`).
    pub async fn get_range(&self, key: &str, start: u64, end: Option<u64>) -> Result<Vec<u8>, StorageError> {
        keys::check(key)?;
        dispatch!(self, s => s.get_range(key, start, end).await)
    }

    /// Streams an object into a local file.
    pub async fn download(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        keys::check(key)?;
        dispatch!(self, s => s.download(key, path).await)
    }

    pub async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StorageError> {
        keys::check(key)?;
        dispatch!(self, s => s.head(key).await)
    }

    /// Every key under `prefix`, sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        keys::check_prefix(prefix)?;
        let mut found = dispatch!(self, s => s.list(prefix).await)?;
        found.sort();
        Ok(found)
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        keys::check(key)?;
        dispatch!(self, s => s.delete(key).await)
    }

    /// Starts a multipart upload of `key` (see [`multipart`]); returns its id.
    pub async fn begin_upload(&self, key: &str) -> Result<String, StorageError> {
        keys::check(key)?;
        dispatch!(self, s => s.begin_upload(key).await)
    }

    /// Stores part `number`, which starts at byte `offset` of the object.
    pub async fn put_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        offset: u64,
        bytes: bytes::Bytes,
    ) -> Result<Part, StorageError> {
        keys::check(key)?;
        match self {
            ObjectStore::Local(store) => store.put_part(key, upload_id, number, offset, bytes).await,
            ObjectStore::S3(store) => store.put_part(key, upload_id, number, bytes).await,
        }
    }

    /// Stores part `number`, which starts at byte `offset`, from `feed` as its bytes
    /// arrive (see [`feed`]: it says the part's size); fails, and the part is never
    /// acknowledged, when the feed closes short.
    pub async fn put_part_fed(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        offset: u64,
        feed: feed::PartFeed,
    ) -> Result<Part, StorageError> {
        keys::check(key)?;
        match self {
            ObjectStore::Local(store) => store.put_part_fed(key, upload_id, number, offset, feed).await,
            ObjectStore::S3(store) => store.put_part_fed(key, upload_id, number, feed).await,
        }
    }

    /// Whether another process can send an upload's parts here itself (by
    /// [`Self::presigned_part`]).
    pub fn takes_presigned_parts(&self) -> bool {
        matches!(self, ObjectStore::S3(_))
    }

    /// A URL through which part `number` of an upload can be PUT without credentials for
    /// `ttl`, for a process that holds the part's bytes (the edge); `None` from the local
    /// store, whose parts only this process writes.
    pub async fn presigned_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        ttl: std::time::Duration,
    ) -> Result<Option<String>, StorageError> {
        keys::check(key)?;
        match self {
            ObjectStore::Local(_) => Ok(None),
            ObjectStore::S3(store) => Ok(Some(store.presigned_part(key, upload_id, number, ttl).await?)),
        }
    }

    /// The parts the store holds for an upload, numbered above `after`, as it lists them
    /// (S3's ListParts); the local store lists none, as nothing but its writer adds parts.
    pub async fn stored_parts(&self, key: &str, upload_id: &str, after: i32) -> Result<Vec<Part>, StorageError> {
        keys::check(key)?;
        match self {
            ObjectStore::Local(_) => Ok(Vec::new()),
            ObjectStore::S3(store) => store.stored_parts(key, upload_id, after).await,
        }
    }

    /// Puts the object in place from `parts`, in order; the upload is gone after.
    pub async fn complete_upload(&self, key: &str, upload_id: &str, parts: &[Part]) -> Result<(), StorageError> {
        keys::check(key)?;
        dispatch!(self, s => s.complete_upload(key, upload_id, parts).await)
    }

    /// Drops an upload and every part of it; one already gone is not an error.
    pub async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), StorageError> {
        keys::check(key)?;
        dispatch!(self, s => s.abort_upload(key, upload_id).await)
    }

    /// Uploads under `prefix` never completed nor aborted (what a sweep looks for).
    pub async fn pending_uploads(&self, prefix: &str) -> Result<Vec<PendingUpload>, StorageError> {
        keys::check_prefix(prefix)?;
        dispatch!(self, s => s.pending_uploads(prefix).await)
    }

    /// Where ffprobe can read `key`: its file, or a URL presigned for `ttl`.
    pub async fn read_location(&self, key: &str, ttl: std::time::Duration) -> Result<ReadLocation, StorageError> {
        keys::check(key)?;
        match self {
            ObjectStore::Local(store) => Ok(ReadLocation::Path(store.file_path(key))),
            ObjectStore::S3(store) => Ok(ReadLocation::Url(store.presigned_get(key, ttl).await?)),
        }
    }

    /// Deletes every object under `prefix`; returns how many.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, StorageError> {
        let found = self.list(prefix).await?;
        for key in &found {
            self.delete(key).await?;
        }
        // A folder on disk outlives its files; S3 has no folders to leave behind.
        if let ObjectStore::Local(store) = self {
            store.remove_empty_folders(prefix).await?;
        }
        Ok(found.len())
    }
}
