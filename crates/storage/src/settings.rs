//! Which store to open and how: one section, embedded by every service that opens a store
//! (media's `storage`, the edge's `storage`), so the environment names stay
//! `OTTR__<SERVICE>__STORAGE__BACKEND`, `…__LOCAL_ROOT` and `…__S3__*`.

use std::path::PathBuf;

use serde::Deserialize;

pub use crate::s3::S3Settings;

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct StorageSettings {
    /// `local` (the embedded default) or `s3`.
    pub backend: String,
    pub local_root: PathBuf,
    pub s3: S3Settings,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self { backend: "local".into(), local_root: PathBuf::from(".data/objects"), s3: S3Settings::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_embedded_local_store() {
        let settings = StorageSettings::default();
        assert_eq!(settings.backend, "local");
        assert_eq!(settings.local_root, PathBuf::from(".data/objects"));
        assert_eq!(settings.s3.bucket, "ottr");
    }
}
