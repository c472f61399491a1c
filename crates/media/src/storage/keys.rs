//! Where an asset's objects live, and what Content-Type each kind carries.
//!
//! ```text
//! sources/<asset>/source<.ext>            the uploaded file
//! hls/<asset>/<attempt>/master.m3u8       the ladder of one transcode attempt
//! hls/<asset>/<attempt>/<rung>/…          init.mp4, seg_00001.m4s …, index.m3u8
//! images/<asset>/<attempt>/poster.jpg     poster, storyboard.jpg, storyboard.vtt
//! ```
//! Each attempt writes under its own number, so a late write from an abandoned attempt
//! can never mix into the objects of the attempt that completes; the winner deletes the
//! other attempts' prefixes.

use uuid::Uuid;

use super::StorageError;

pub fn source(asset: Uuid, extension: &str) -> String {
    let extension: String =
        extension.chars().filter(char::is_ascii_alphanumeric).take(8).collect::<String>().to_lowercase();
    if extension.is_empty() { format!("sources/{asset}/source") } else { format!("sources/{asset}/source.{extension}") }
}

pub fn hls_root(asset: Uuid) -> String {
    format!("hls/{asset}/")
}

pub fn hls(asset: Uuid, attempt: i32) -> String {
    format!("hls/{asset}/{attempt}/")
}

pub fn images_root(asset: Uuid) -> String {
    format!("images/{asset}/")
}

pub fn images(asset: Uuid, attempt: i32) -> String {
    format!("images/{asset}/{attempt}/")
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
        assert_eq!(source(asset, "MP4"), format!("sources/{asset}/source.mp4"));
        assert_eq!(source(asset, "../../x"), format!("sources/{asset}/source.x"));
        assert_eq!(source(asset, ""), format!("sources/{asset}/source"));
    }
}
