//! Subtitle and caption tracks as WebVTT renditions: read and cleaned (`parse`), taken
//! out of a source's text subtitle streams, stored beside the ladder with a one-file
//! playlist each, and added, replaced or removed on a ready asset (`edit`).

pub mod edit;
pub mod parse;

use std::path::{Path, PathBuf};

use ottr_storage::{ObjectStore, StorageError};

pub use parse::{Cue, SubtitleError, parse, to_webvtt};

use crate::{ffmpeg, transcode::playlist};

/// The WebVTT file in each subtitle rendition's folder.
pub const FILE: &str = "subtitles.vtt";

/// One ffmpeg pass writing each text subtitle stream `0:s:N` of `source` as WebVTT.
pub fn extract_args(source: &Path, max_pixels: u64, outputs: &[(usize, PathBuf)]) -> Vec<String> {
    let mut args = ffmpeg::base_args();
    args.extend(ffmpeg::source_guards(max_pixels));
    args.extend(["-i".to_owned(), source.to_string_lossy().into_owned()]);
    for (index, path) in outputs {
        args.extend(["-map".to_owned(), format!("0:s:{index}")]);
        args.extend(["-c:s", "webvtt", "-f", "webvtt"].map(String::from));
        args.push(path.to_string_lossy().into_owned());
    }
    args
}

/// Stores a track's cleaned WebVTT and its playlist under `<prefix><folder>/`; the
/// playlist goes last, so it never names a file that is not there.
pub async fn store_track(
    store: &ObjectStore,
    prefix: &str,
    folder: &str,
    cues: &[Cue],
    duration_secs: f64,
) -> Result<Vec<String>, StorageError> {
    let (vtt, index) = (format!("{prefix}{folder}/{FILE}"), format!("{prefix}{folder}/index.m3u8"));
    store.put_bytes(&vtt, to_webvtt(cues).into_bytes()).await?;
    store.put_bytes(&index, playlist::subtitle_playlist(duration_secs, FILE).into_bytes()).await?;
    Ok(vec![vtt, index])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extraction_is_one_guarded_pass_with_a_webvtt_output_per_stream() {
        let args = extract_args(Path::new("/tmp/in.mkv"), 100, &[(0, "/tmp/s0.vtt".into()), (2, "/tmp/s2.vtt".into())]);
        assert_eq!(args.iter().filter(|a| *a == "-i").count(), 1);
        assert!(args.iter().position(|a| a == "-protocol_whitelist") < args.iter().position(|a| a == "-i"));
        let maps: Vec<_> = args.windows(2).filter(|w| w[0] == "-map").map(|w| w[1].as_str()).collect();
        assert_eq!(maps, vec!["0:s:0", "0:s:2"]);
        assert_eq!(args.last().unwrap(), "/tmp/s2.vtt");
    }
}
