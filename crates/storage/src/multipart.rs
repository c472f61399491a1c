//! Multipart uploads: an object written in numbered parts over any length of time, by any
//! process, then completed into place in one step (or aborted). S3 keeps the parts on the
//! server; the local store writes each part at its offset of a hidden staging file beside
//! the object and renames it into place. Resumable uploads build on this, so bytes go
//! straight into the store as they arrive.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The smallest part S3 accepts, except for the last one.
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

/// The most parts one upload may have (S3's limit).
pub const MAX_PARTS: u64 = 10_000;

/// A part the store acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// From 1, in the order the bytes go.
    pub number: i32,
    pub size: u64,
    /// What S3 answered for the part (empty for the local store); completion names it.
    pub etag: String,
}

/// A multipart upload the store holds that was never completed nor aborted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingUpload {
    pub key: String,
    pub upload_id: String,
    pub started: Option<SystemTime>,
}

/// Where a program outside this process (ffprobe) can read an object: a local path, or a
/// short-lived presigned URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadLocation {
    Path(std::path::PathBuf),
    Url(String),
}

impl ReadLocation {
    /// The location as ffmpeg's `-i` takes it.
    pub fn as_input(&self) -> String {
        match self {
            ReadLocation::Path(path) => path.to_string_lossy().into_owned(),
            ReadLocation::Url(url) => url.clone(),
        }
    }
}

/// The part size for an upload of `length` bytes: `preferred`, or larger when that many
/// parts would not fit in [`MAX_PARTS`]; never below [`MIN_PART_BYTES`].
pub fn part_size(length: u64, preferred: u64) -> u64 {
    let fitting = length.div_ceil(MAX_PARTS);
    preferred.max(fitting).max(MIN_PART_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_grow_only_when_the_upload_would_need_more_than_s3_allows() {
        let mib = 1024 * 1024;
        assert_eq!(part_size(2 * 1024 * mib, 8 * mib), 8 * mib);
        assert_eq!(part_size(100 * 1024 * mib, 8 * mib), (100 * 1024 * mib).div_ceil(MAX_PARTS));
        assert_eq!(part_size(10, mib), MIN_PART_BYTES, "never below S3's minimum");
    }
}
