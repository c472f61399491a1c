//! What `ottr upload` remembers between runs so an interrupted upload resumes: for each
//! file (its fingerprint: canonical path, size, modification time and the edge, as
//! tus-js-client fingerprints a file), the upload URL the edge gave it, and the title
//! made for it. One small JSON file, `$XDG_STATE_HOME/ottr/uploads.json` (or
//! `~/.local/state/ottr/uploads.json`), rewritten whole through a rename so a reader never
//! sees half of it. Two runs writing at the same instant may lose one entry; that upload
//! then starts over, which is the worst case of losing any entry.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The file to upload, as the fingerprint and the upload see it.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub path: PathBuf,
    /// The name the edge records (`Upload-Metadata: filename`).
    pub filename: String,
    pub length: u64,
    /// Nanoseconds since the epoch: a file rewritten in place is another file.
    modified_ns: u128,
}

impl Source {
    pub(crate) fn open(path: &Path) -> anyhow::Result<Self> {
        let path = path.canonicalize().with_context(|| format!("finding {}", path.display()))?;
        let meta = std::fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?;
        anyhow::ensure!(meta.is_file(), "{} is not a file", path.display());
        let modified = meta.modified().with_context(|| format!("reading when {} changed", path.display()))?;
        let modified_ns = modified.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        let filename = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(Self { path, filename, length: meta.len(), modified_ns })
    }

    /// The key this file's entry is stored under for uploads to `edge`.
    pub(crate) fn fingerprint(&self, edge: &str) -> String {
        format!("{}|{}|{}|{}", edge, self.path.display(), self.length, self.modified_ns)
    }
}

/// A title made for an upload, so a resumed run attaches the asset to it rather than
/// making a second one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct TitleRef {
    pub id: String,
    pub name: String,
    pub slug: String,
}

/// One remembered upload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// The upload's URL (the creation's `Location`).
    pub url: String,
    pub length: u64,
    /// Unix seconds after which the edge has deleted it (from `Upload-Expires`; 0 unknown).
    #[serde(default)]
    pub expires_at: i64,
    #[serde(default)]
    pub title: Option<TitleRef>,
}

/// The state file.
#[derive(Clone, Debug)]
pub(crate) struct StateStore {
    path: PathBuf,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

impl StateStore {
    pub(crate) fn at(path: PathBuf) -> Self {
        Self { path }
    }

    /// `$XDG_STATE_HOME/ottr/uploads.json`, else `$HOME/.local/state/ottr/uploads.json`.
    pub(crate) fn default_location() -> anyhow::Result<Self> {
        let non_empty = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let state = non_empty("XDG_STATE_HOME")
            .or_else(|| non_empty("HOME").map(|home| home.join(".local/state")))
            .context("neither XDG_STATE_HOME nor HOME is set: nowhere to remember uploads")?;
        Ok(Self::at(state.join("ottr").join("uploads.json")))
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn get(&self, key: &str) -> anyhow::Result<Option<Entry>> {
        Ok(self.load()?.remove(key))
    }

    pub(crate) fn put(&self, key: &str, entry: Entry) -> anyhow::Result<()> {
        let mut entries = self.load()?;
        entries.insert(key.to_owned(), entry);
        self.write(entries)
    }

    pub(crate) fn remove(&self, key: &str) -> anyhow::Result<()> {
        let mut entries = self.load()?;
        if entries.remove(key).is_some() {
            self.write(entries)?;
        }
        Ok(())
    }

    /// Every entry; none when there is no file yet. A file that is not ours to read (a
    /// half-edited one) is treated as empty rather than blocking every upload.
    fn load(&self) -> anyhow::Result<BTreeMap<String, Entry>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(e).with_context(|| format!("reading {}", self.path.display())),
        }
    }

    /// Writes the entries the edge still keeps (expired ones are dropped here).
    fn write(&self, mut entries: BTreeMap<String, Entry>) -> anyhow::Result<()> {
        let now = now();
        entries.retain(|_, entry| entry.expires_at == 0 || entry.expires_at > now);
        let written = (|| {
            let dir = self.path.parent().context("the state file has no folder")?;
            std::fs::create_dir_all(dir)?;
            let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            // Same folder, so the rename is atomic.
            let temporary = self.path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
            std::fs::write(&temporary, serde_json::to_vec_pretty(&entries)?)?;
            std::fs::rename(&temporary, &self.path).inspect_err(|_| {
                let _ = std::fs::remove_file(&temporary);
            })?;
            anyhow::Ok(())
        })();
        written.with_context(|| format!("writing {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ottr-upload-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entry(url: &str, expires_at: i64) -> Entry {
        Entry { url: url.into(), length: 10, expires_at, title: None }
    }

    #[test]
    fn the_fingerprint_changes_with_the_edge_the_size_and_the_modification_time() {
        let dir = scratch("fingerprint");
        let file = dir.join("clip.mp4");
        std::fs::write(&file, b"0123456789").unwrap();
        let before = Source::open(&dir.join(".").join("clip.mp4")).unwrap();
        assert_eq!(before.path, file.canonicalize().unwrap(), "the path is canonical");
        assert_eq!((before.filename.as_str(), before.length), ("clip.mp4", 10));
        let a = before.fingerprint("http://127.0.0.1:8080/");
        assert_eq!(a, Source::open(&file).unwrap().fingerprint("http://127.0.0.1:8080/"), "stable");
        assert_ne!(a, before.fingerprint("https://edge.example.org/"));

        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options().write(true).open(&file).unwrap().set_modified(later).unwrap();
        assert_ne!(a, Source::open(&file).unwrap().fingerprint("http://127.0.0.1:8080/"), "touched");
        std::fs::write(&file, b"01234567890").unwrap();
        assert_ne!(a, Source::open(&file).unwrap().fingerprint("http://127.0.0.1:8080/"), "grown");
        assert!(Source::open(&dir).is_err(), "a folder is not uploaded");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn entries_are_kept_per_key_until_removed_and_the_folder_is_made_on_first_write() {
        let dir = scratch("store");
        let store = StateStore::at(dir.join("nested/ottr/uploads.json"));
        assert_eq!(store.get("a").unwrap(), None, "no file yet is no entry");
        let titled = Entry {
            title: Some(TitleRef { id: "t1".into(), name: "Night".into(), slug: "night".into() }),
            ..entry("http://edge/api/v1/uploads/1", 0)
        };
        store.put("a", titled.clone()).unwrap();
        store.put("b", entry("http://edge/api/v1/uploads/2", now() + 3600)).unwrap();
        assert_eq!(store.get("a").unwrap(), Some(titled));
        store.remove("a").unwrap();
        store.remove("a").unwrap();
        assert_eq!(store.get("a").unwrap(), None);
        assert_eq!(store.get("b").unwrap().unwrap().url, "http://edge/api/v1/uploads/2");
        let names: Vec<_> = std::fs::read_dir(store.path().parent().unwrap()).unwrap().map(|e| e.unwrap()).collect();
        assert_eq!(names.len(), 1, "no temporary file is left beside it");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn expired_entries_are_dropped_and_an_unreadable_file_counts_as_empty() {
        let dir = scratch("expiry");
        let store = StateStore::at(dir.join("uploads.json"));
        store.put("old", entry("http://edge/api/v1/uploads/old", now() - 1)).unwrap();
        assert_eq!(store.get("old").unwrap(), None, "the edge has swept it");
        std::fs::write(store.path(), b"{ half a file").unwrap();
        assert_eq!(store.get("x").unwrap(), None);
        store.put("x", entry("http://edge/api/v1/uploads/x", 0)).unwrap();
        assert!(store.get("x").unwrap().is_some(), "and is replaced by the next write");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
