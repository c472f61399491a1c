//! Where an asset's objects live, and what Content-Type each kind carries.
//!
//! ```text
//! sources/<asset>/source<.ext>            the uploaded file
//! hls/<asset>/<attempt>/master.m3u8       the ladder of one transcode attempt
//! hls/<asset>/<attempt>/<rung>/…          init.mp4, seg_00001.m4s …, index.m3u8
//! images/<asset>/<attempt>/poster.jpg     poster, storyboard.jpg, storyboard.vtt
//! files/<asset>/<attempt>/<rung>.mp4      the progressive download, remuxed from a rung
//! ```
//! Each attempt writes under its own number, so a late write from an abandoned attempt
//! can never mix into the objects of the attempt that completes; the winner deletes the
//! other attempts' prefixes.

mod delivery;

use uuid::Uuid;

use crate::StorageError;

pub use delivery::DeliveryKey;

/// The trees the edge delivers from, each with one folder per asset and per attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tree {
    Hls,
    Images,
    Files,
}

impl Tree {
    pub fn as_str(self) -> &'static str {
        match self {
            Tree::Hls => "hls",
            Tree::Images => "images",
            Tree::Files => "files",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "hls" => Some(Tree::Hls),
            "images" => Some(Tree::Images),
            "files" => Some(Tree::Files),
            _ => None,
        }
    }
}

/// The keys and prefixes of one asset's objects. Prefixes end with `/`, so listing one
/// attempt never matches another whose number starts the same (`1/` vs `12/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssetKeys(Uuid);

impl AssetKeys {
    pub fn new(asset: Uuid) -> Self {
        Self(asset)
    }

    pub fn asset(self) -> Uuid {
        self.0
    }

    /// The uploaded file; the extension is cut to a few lowercase letters and digits, so a
    /// client's file name cannot smuggle a path in.
    pub fn source(self, extension: &str) -> String {
        let extension: String =
            extension.chars().filter(char::is_ascii_alphanumeric).take(8).collect::<String>().to_lowercase();
        let asset = self.0;
        if extension.is_empty() {
            format!("sources/{asset}/source")
        } else {
            format!("sources/{asset}/source.{extension}")
        }
    }

    /// The folder of the uploaded file.
    pub fn sources_root(self) -> String {
        format!("sources/{}/", self.0)
    }

    /// Every prefix the asset has objects under: its source, ladders, images and downloads.
    pub fn every_root(self) -> [String; 4] {
        [self.sources_root(), self.hls_root(), self.images_root(), self.root(Tree::Files)]
    }

    /// Every attempt of the asset in one tree.
    pub fn root(self, tree: Tree) -> String {
        format!("{}/{}/", tree.as_str(), self.0)
    }

    /// One attempt's folder in one tree.
    pub fn attempt(self, tree: Tree, attempt: i32) -> String {
        format!("{}/{}/{attempt}/", tree.as_str(), self.0)
    }

    pub fn hls_root(self) -> String {
        self.root(Tree::Hls)
    }

    pub fn hls(self, attempt: i32) -> String {
        self.attempt(Tree::Hls, attempt)
    }

    pub fn images_root(self) -> String {
        self.root(Tree::Images)
    }

    pub fn images(self, attempt: i32) -> String {
        self.attempt(Tree::Images, attempt)
    }

    /// One object of an attempt, `relative` being its path inside the attempt's folder.
    pub fn object(self, tree: Tree, attempt: i32, relative: &str) -> Result<DeliveryKey, StorageError> {
        DeliveryKey::new(tree, self.0, attempt, relative)
    }
}

/// The Content-Type players and browsers expect for a key, by its extension.
pub fn content_type(key: &str) -> &'static str {
    match key.rsplit_once('.').map(|(_, ext)| ext) {
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("m4s") => "video/iso.segment",
        Some("mp4") => "video/mp4",
        Some("ts") => "video/mp2t",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("vtt") => "text/vtt",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Keys are relative paths of plain segments: no `..`, no empty or absolute parts, no
/// backslashes, no control characters. The local store relies on this to stay inside
/// its root.
pub fn check(key: &str) -> Result<(), StorageError> {
    let ok = !key.is_empty()
        && key.len() <= 1024
        && !key.contains('\\')
        && !key.chars().any(char::is_control)
        && key.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
    if ok { Ok(()) } else { Err(StorageError::BadKey(key.to_owned())) }
}

/// A prefix is a key that may end with `/`.
pub fn check_prefix(prefix: &str) -> Result<(), StorageError> {
    check(prefix.strip_suffix('/').unwrap_or(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_odd_keys_are_refused() {
        for bad in ["", "/etc/passwd", "a/../b", "..", "a//b", "a\\b", "a/./b", "a\nb"] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
        assert!(check("hls/x/1/720p/seg_00001.m4s").is_ok());
        assert!(check_prefix("hls/x/").is_ok());
    }

    #[test]
    fn each_kind_of_object_gets_its_content_type() {
        assert_eq!(content_type("hls/a/1/master.m3u8"), "application/vnd.apple.mpegurl");
        assert_eq!(content_type("hls/a/1/720p/init.mp4"), "video/mp4");
        assert_eq!(content_type("hls/a/1/720p/seg_00001.m4s"), "video/iso.segment");
        assert_eq!(content_type("images/a/1/poster.jpg"), "image/jpeg");
        assert_eq!(content_type("images/a/1/storyboard.vtt"), "text/vtt");
    }

    #[test]
    fn a_source_extension_cannot_smuggle_a_path() {
        let asset = Uuid::nil();
        let keys = AssetKeys::new(asset);
        assert_eq!(keys.source("MP4"), format!("sources/{asset}/source.mp4"));
        assert_eq!(keys.source("../../x"), format!("sources/{asset}/source.x"));
        assert_eq!(keys.source(""), format!("sources/{asset}/source"));
    }

    #[test]
    fn prefixes_name_one_asset_and_one_attempt_per_tree() {
        let asset = Uuid::nil();
        let keys = AssetKeys::new(asset);
        assert_eq!(keys.hls_root(), format!("hls/{asset}/"));
        assert_eq!(keys.hls(3), format!("hls/{asset}/3/"));
        assert_eq!(keys.images_root(), format!("images/{asset}/"));
        assert_eq!(keys.images(3), format!("images/{asset}/3/"));
        for prefix in [keys.hls_root(), keys.hls(3), keys.images_root(), keys.images(3)] {
            assert!(check_prefix(&prefix).is_ok(), "{prefix}");
        }
        let master = keys.object(Tree::Hls, 3, "master.m3u8").unwrap();
        assert!(master.as_str().starts_with(&keys.hls(3)));
    }
}
