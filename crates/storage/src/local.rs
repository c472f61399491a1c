//! The local filesystem store: objects are files under a root folder. Writes land in a
//! temporary file and are renamed into place, so a reader never sees half an object.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::{
    ObjectMeta, StorageError, keys,
    multipart::{Part, PendingUpload},
};

/// A staging file of a multipart upload: `.<upload id>.upload` beside the object.
const UPLOAD_SUFFIX: &str = ".upload";

#[derive(Clone, Debug)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Safe because every key passed `keys::check` before it got here.
    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn not_found(key: &str) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
        move |e| {
            if e.kind() == std::io::ErrorKind::NotFound { StorageError::NotFound(key.to_owned()) } else { e.into() }
        }
    }

    async fn staged(&self, key: &str) -> Result<(PathBuf, PathBuf), StorageError> {
        let target = self.path(key);
        let parent = target.parent().expect("object paths have a parent");
        tokio::fs::create_dir_all(parent).await?;
        let staging = parent.join(format!(".{}.partial", uuid::Uuid::new_v4().simple()));
        Ok((staging, target))
    }

    /// Where the object of `key` is (or will be) on disk, for programs that read files.
    pub fn file_path(&self, key: &str) -> PathBuf {
        self.path(key)
    }

    /// The staging file of `upload_id`, which must be one this store made (hex only), so
    /// an id read back from elsewhere cannot name another path.
    fn upload_path(&self, key: &str, upload_id: &str) -> Result<PathBuf, StorageError> {
        if upload_id.len() != 32 || !upload_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StorageError::BadKey(upload_id.to_owned()));
        }
        let target = self.path(key);
        let parent = target.parent().expect("object paths have a parent");
        Ok(parent.join(format!(".{upload_id}{UPLOAD_SUFFIX}")))
    }

    pub async fn begin_upload(&self, key: &str) -> Result<String, StorageError> {
        let upload_id = uuid::Uuid::new_v4().simple().to_string();
        let path = self.upload_path(key, &upload_id)?;
        tokio::fs::create_dir_all(path.parent().expect("staging files have a parent")).await?;
        tokio::fs::File::create(&path).await?;
        Ok(upload_id)
    }

    /// Writes the part at `offset` of the staging file: parts may come in any order and
    /// again (a retried part overwrites itself).
    pub async fn put_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        offset: u64,
        bytes: bytes::Bytes,
    ) -> Result<Part, StorageError> {
        let path = self.upload_path(key, upload_id)?;
        let size = bytes.len() as u64;
        tokio::task::spawn_blocking(move || {
            use std::os::unix::fs::FileExt;
            let file = std::fs::OpenOptions::new().write(true).open(&path)?;
            file.write_all_at(&bytes, offset)
        })
        .await
        .map_err(|e| StorageError::Io(std::io::Error::other(e)))??;
        Ok(Part { number, size, etag: String::new() })
    }

    /// Writes a fed part at `offset` of the staging file as its bytes arrive. A feed that
    /// closes short leaves bytes past the parts acknowledged, which completion cuts off or
    /// a later part overwrites.
    pub async fn put_part_fed(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        offset: u64,
        mut feed: crate::feed::PartFeed,
    ) -> Result<Part, StorageError> {
        use tokio::io::{AsyncSeekExt, AsyncWriteExt};
        let path = self.upload_path(key, upload_id)?;
        let mut file = tokio::fs::OpenOptions::new().write(true).open(&path).await?;
        file.seek(std::io::SeekFrom::Start(offset)).await?;
        let mut size = 0;
        let mut fed = Ok(());
        while let Some(bytes) = feed.next().await {
            match bytes {
                Ok(bytes) => {
                    file.write_all(&bytes).await?;
                    size += bytes.len() as u64;
                }
                Err(error) => {
                    fed = Err(error);
                    break;
                }
            }
        }
        // Even for a feed that closed short: no write may land after the part is given up.
        file.flush().await?;
        fed?;
        Ok(Part { number, size, etag: String::new() })
    }

    /// Cuts the staging file to the parts' total (a longer write that was never
    /// acknowledged goes) and renames it into place.
    pub async fn complete_upload(&self, key: &str, upload_id: &str, parts: &[Part]) -> Result<(), StorageError> {
        let path = self.upload_path(key, upload_id)?;
        let total: u64 = parts.iter().map(|part| part.size).sum();
        let file = tokio::fs::OpenOptions::new().write(true).open(&path).await.map_err(Self::not_found(key))?;
        file.set_len(total).await?;
        file.sync_all().await?;
        tokio::fs::rename(&path, self.path(key)).await?;
        Ok(())
    }

    pub async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), StorageError> {
        match tokio::fs::remove_file(self.upload_path(key, upload_id)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Staging files under `prefix`'s folder, as uploads never completed nor aborted.
    pub async fn pending_uploads(&self, prefix: &str) -> Result<Vec<PendingUpload>, StorageError> {
        let mut found = Vec::new();
        for (path, name) in self.walk(prefix).await? {
            let Some(upload_id) = name.strip_prefix('.').and_then(|n| n.strip_suffix(UPLOAD_SUFFIX)) else { continue };
            // The staging file's own key: what aborting needs is its folder.
            let Some(key) = self.key_of(&path) else { continue };
            let started = tokio::fs::metadata(&path).await.ok().and_then(|m| m.modified().ok());
            found.push(PendingUpload { key, upload_id: upload_id.to_owned(), started });
        }
        Ok(found)
    }

    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        let (staging, target) = self.staged(key).await?;
        let copied = tokio::fs::copy(path, &staging).await;
        if let Err(error) = copied {
            let _ = tokio::fs::remove_file(&staging).await;
            return Err(error.into());
        }
        tokio::fs::rename(&staging, &target).await?;
        Ok(())
    }

    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        let (staging, target) = self.staged(key).await?;
        if let Err(error) = tokio::fs::write(&staging, bytes).await {
            let _ = tokio::fs::remove_file(&staging).await;
            return Err(error.into());
        }
        tokio::fs::rename(&staging, &target).await?;
        Ok(())
    }

    pub async fn get_bytes(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        tokio::fs::read(self.path(key)).await.map_err(Self::not_found(key))
    }

    pub async fn get_range(&self, key: &str, start: u64, end: Option<u64>) -> Result<Vec<u8>, StorageError> {
        let mut file = tokio::fs::File::open(self.path(key)).await.map_err(Self::not_found(key))?;
        let size = file.metadata().await?.len();
        let end = end.unwrap_or(size.saturating_sub(1)).min(size.saturating_sub(1));
        if start > end {
            return Ok(Vec::new());
        }
        file.seek(std::io::SeekFrom::Start(start)).await?;
        let mut buffer = vec![0; (end - start + 1) as usize];
        file.read_exact(&mut buffer).await?;
        Ok(buffer)
    }

    pub async fn download(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        tokio::fs::copy(self.path(key), path).await.map_err(Self::not_found(key))?;
        Ok(())
    }

    pub async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StorageError> {
        match tokio::fs::metadata(self.path(key)).await {
            Ok(meta) if meta.is_file() => {
                Ok(Some(ObjectMeta { size: meta.len(), content_type: keys::content_type(key).to_owned() }))
            }
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut found = Vec::new();
        for (path, name) in self.walk(prefix).await? {
            if name.starts_with('.') {
                continue; // staging files
            }
            if let Some(key) = self.key_of(&path).filter(|key| key.starts_with(prefix)) {
                found.push(key);
            }
        }
        Ok(found)
    }

    /// The key of a file under the root.
    fn key_of(&self, path: &Path) -> Option<String> {
        let relative = path.strip_prefix(&self.root).ok()?;
        Some(relative.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/"))
    }

    /// Every file (staging files too) below the folder `prefix` names, with its name.
    async fn walk(&self, prefix: &str) -> Result<Vec<(PathBuf, String)>, StorageError> {
        // The prefix names a folder, or a folder and the start of a file name.
        let folder = match prefix.rsplit_once('/') {
            Some((folder, _)) => self.path(folder),
            None => self.root.clone(),
        };
        let mut found = Vec::new();
        let mut stack = vec![folder];
        while let Some(dir) = stack.pop() {
            let mut entries = match tokio::fs::read_dir(&dir).await {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            while let Some(entry) = entries.next_entry().await? {
                if entry.file_type().await?.is_dir() {
                    stack.push(entry.path());
                } else {
                    found.push((entry.path(), entry.file_name().to_string_lossy().into_owned()));
                }
            }
        }
        Ok(found)
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Removes the folders under `prefix` (and the prefix's own) that hold no file any
    /// more, deepest first; a folder a writer filled meanwhile stays, with its files.
    pub async fn remove_empty_folders(&self, prefix: &str) -> Result<(), StorageError> {
        let top = self.path(prefix.trim_end_matches('/'));
        let mut folders = Vec::new();
        let mut pending = vec![top];
        while let Some(folder) = pending.pop() {
            let mut entries = match tokio::fs::read_dir(&folder).await {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            while let Some(entry) = entries.next_entry().await? {
                if entry.file_type().await?.is_dir() {
                    pending.push(entry.path());
                }
            }
            folders.push(folder);
        }
        // Parents were found before their children: the reverse removes children first.
        for folder in folders.into_iter().rev() {
            match tokio::fs::remove_dir(&folder).await {
                Ok(()) => {}
                Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::DirectoryNotEmpty) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
