//! The ready file: once every listener is bound, `--ready-file PATH` gets a small JSON
//! object naming each service's address and port, so scripts and tests that start
//! `ottr` wait for one file instead of scraping "listening on" from its logs.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::Context;

/// Where each service of this process listens, in the order they started.
#[derive(Debug, Default)]
pub(crate) struct Listeners(BTreeMap<&'static str, (String, u16)>);

impl Listeners {
    pub(crate) fn add(&mut self, service: &'static str, host: &str, port: u16) {
        self.0.insert(service, (host.to_owned(), port));
    }

    /// `{"auth": {"address": "127.0.0.1:5001", "port": 5001}, …}`.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let services = self.0.iter().map(|(name, (host, port))| {
            ((*name).to_owned(), serde_json::json!({ "address": format!("{host}:{port}"), "port": port }))
        });
        serde_json::Value::Object(services.collect())
    }
}

/// The file a run announces itself in; removed again when the run ends, so a file that
/// exists always describes a live process.
pub(crate) struct ReadyFile(Option<PathBuf>);

impl ReadyFile {
    /// Clears a file left by an earlier run before anything binds, so a waiting script
    /// never reads stale ports.
    pub(crate) fn new(path: Option<PathBuf>) -> anyhow::Result<Self> {
        if let Some(path) = &path {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing the old {}", path.display())),
            }
        }
        Ok(Self(path))
    }

    /// Writes the listeners to a temporary file beside the target and renames it, so a
    /// reader sees either no file or the whole of it, never a half-written one.
    pub(crate) fn write(&self, listeners: &Listeners) -> anyhow::Result<()> {
        let Some(path) = &self.0 else { return Ok(()) };
        write_atomically(path, &serde_json::to_vec_pretty(&listeners.to_json())?)
            .with_context(|| format!("writing the ready file {}", path.display()))
    }
}

impl Drop for ReadyFile {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // Same folder, so the rename stays on one filesystem and is atomic.
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_names_every_listener_and_leaves_no_temporary_behind() {
        let dir = std::env::temp_dir().join(format!("ottr-ready-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ready.json");
        std::fs::write(&path, "stale").unwrap();
        let ready = ReadyFile::new(Some(path.clone())).unwrap();
        assert!(!path.exists(), "a stale file is cleared before binding");
        let mut listeners = Listeners::default();
        listeners.add("auth", "127.0.0.1", 5001);
        listeners.add("edge", "0.0.0.0", 8080);
        ready.write(&listeners).unwrap();
        let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(written["auth"]["address"], "127.0.0.1:5001");
        assert_eq!(written["edge"]["port"], 8080);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "only the ready file is left");
        drop(ready);
        assert!(!path.exists(), "the file goes when the run ends");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
