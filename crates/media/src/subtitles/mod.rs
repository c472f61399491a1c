//! Subtitle and caption tracks as WebVTT renditions: read and cleaned (`parse`), taken
//! out of a source's text subtitle streams, stored beside the ladder with a one-file
//! playlist each, and added, replaced or removed on a ready asset (`edit`).

pub mod edit;
pub mod parse;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use ottr_storage::{ObjectStore, StorageError};

pub use parse::{Cue, SubtitleError, parse, parse_extracted, to_webvtt};

use crate::{ffmpeg, process, transcode::playlist};

/// Taking text out of a film reads the whole file, but decodes no picture.
const EXTRACT_LIMIT: Duration = Duration::from_secs(3600);

/// The WebVTT file in each subtitle rendition's folder.
pub const FILE: &str = "subtitles.vtt";

/// One ffmpeg pass writing each text subtitle stream `0:s:N` of `source` as WebVTT.
pub fn extract_args(source: &Path, max_pixels: u64, outputs: &[(usize, PathBuf)]) -> Vec<String> {
    let mut args = ffmpeg::base_args();
    args.extend(ffmpeg::guarded_input(source, max_pixels));
    for (index, path) in outputs {
        args.extend(["-map".to_owned(), format!("0:s:{index}")]);
        args.extend(["-c:s", "webvtt", "-f", "webvtt"].map(String::from));
        args.push(path.to_string_lossy().into_owned());
    }
    args
}

/// Takes the subtitle streams `indexes` (`0:s:N`) of `source` out as WebVTT files in `work`
/// and reads their cues; for each, the cues or why it was left out. One pass for all; when
/// that fails, each stream alone, so one broken stream costs only itself.
pub async fn extract(source: &Path, max_pixels: u64, work: &Path, indexes: &[usize]) -> Vec<Result<Vec<Cue>, String>> {
    let outputs: Vec<(usize, PathBuf)> =
        indexes.iter().map(|&i| (i, work.join(format!("subtitles_{i}.vtt")))).collect();
    let together = process::run("ffmpeg", &extract_args(source, max_pixels, &outputs), EXTRACT_LIMIT).await;
    let mut found = Vec::new();
    for output in &outputs {
        let extracted = match &together {
            Ok(_) => Ok(()),
            Err(_) => {
                process::run("ffmpeg", &extract_args(source, max_pixels, std::slice::from_ref(output)), EXTRACT_LIMIT)
                    .await
                    .map(drop)
                    .map_err(|e| format!("ffmpeg could not read it: {}", e.stderr_tail()))
            }
        };
        let cues = match extracted {
            Ok(()) => tokio::fs::read(&output.1)
                .await
                .map_err(|e| e.to_string())
                .and_then(|bytes| parse_extracted(&bytes).map_err(|e| e.to_string())),
            Err(error) => Err(error),
        };
        found.push(cues);
    }
    found
}

/// Stores a track's cleaned WebVTT and its playlist under `<prefix><folder>/`; the
/// playlist goes last, so it never names a file that is not there.
pub async fn store_track(
    store: &ObjectStore,
    prefix: &str,
    folder: &str,
    cues: &[Cue],
    duration_secs: f64,
) -> Result<(), StorageError> {
    let [vtt, index] = keys(prefix, folder);
    store.put_bytes(&vtt, to_webvtt(cues).into_bytes()).await?;
    store.put_bytes(&index, playlist::subtitle_playlist(duration_secs, FILE).into_bytes()).await
}

/// A track's two objects under `<prefix><folder>/`: its WebVTT file and its playlist.
pub fn keys(prefix: &str, folder: &str) -> [String; 2] {
    [format!("{prefix}{folder}/{FILE}"), format!("{prefix}{folder}/index.m3u8")]
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
