//! The local filesystem store: objects are files under a root folder. Writes land in a
//! temporary file and are renamed into place, so a reader never sees half an object.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::{ObjectMeta, StorageError, keys};

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
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue; // staging files
                }
                if entry.file_type().await?.is_dir() {
                    stack.push(path);
                } else if let Ok(relative) = path.strip_prefix(&self.root) {
                    let key = relative.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
                    if key.starts_with(prefix) {
                        found.push(key);
                    }
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
}
