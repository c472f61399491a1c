//! The progressive MP4 download beside the ladder: one rung's picture and the default
//! audio rendition, remuxed from the ladder's own fMP4 segments (`-c copy`, no second
//! encode) into one MP4 whose index comes first (`-movflags +faststart`), so a download
//! manager, a video editor or a plain `<video>` can start at the first bytes and seek with
//! Range requests. It is made at the end of the transcode, while the segments are still on
//! the worker's disk: a copy of one rung costs seconds there, where made on demand it would
//! first fetch every segment back from storage, and it is there the moment the asset is
//! ready. Which rung is a setting (the highest at or below `max_lines`, 720p by default:
//! what a phone or a laptop keeps offline); whether a title offers it is the catalog's.

use std::path::Path;

use serde::Deserialize;

use super::ladder::Rung;
use crate::ffmpeg;

/// `OTTR__MEDIA__DOWNLOADS__*`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default)]
pub struct DownloadSettings {
    /// Make the MP4 at all (off saves a copy of one rung per asset in storage).
    pub enabled: bool,
    /// The rung is the highest whose short side is at most this many lines; a source
    /// smaller than every such rung gets its smallest.
    pub max_lines: u32,
}

impl Default for DownloadSettings {
    fn default() -> Self {
        Self { enabled: true, max_lines: 720 }
    }
}

/// The rung the download is made of, or none when the ladder has none.
pub fn pick(rungs: &[Rung], max_lines: u32) -> Option<&Rung> {
    let lines = |rung: &&Rung| rung.width.min(rung.height);
    rungs.iter().filter(|rung| lines(rung) <= max_lines).max_by_key(lines).or_else(|| rungs.iter().min_by_key(lines))
}

/// The remux of `video` (a rung's init segment and media segments, joined) and `audio`
/// (the same of an audio rendition) into `out`. Both inputs are ottr's own fMP4, read
/// through the same guards as any input: local files, the MP4 demuxer only.
pub fn args(video: &Path, audio: Option<&Path>, out: &Path) -> Vec<String> {
    let mut args = ffmpeg::base_args();
    let inputs = [Some(video), audio];
    for input in inputs.iter().flatten() {
        args.extend(["-protocol_whitelist", ffmpeg::PROTOCOL_WHITELIST, "-format_whitelist", "mov"].map(String::from));
        args.extend(["-i".to_owned(), input.to_string_lossy().into_owned()]);
    }
    args.extend(["-map", "0:v:0"].map(String::from));
    if audio.is_some() {
        args.extend(["-map", "1:a:0"].map(String::from));
    }
    args.extend(["-c", "copy", "-movflags", "+faststart", "-f", "mp4"].map(String::from));
    args.push(out.to_string_lossy().into_owned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rung(name: &str, width: u32, height: u32) -> Rung {
        Rung { name: name.into(), width, height, video_kbps: 1000, bytes: None }
    }

    #[test]
    fn the_highest_rung_within_the_lines_is_picked_whichever_way_the_picture_is_turned() {
        let landscape = [rung("1080p", 1920, 1080), rung("720p", 1280, 720), rung("480p", 854, 480)];
        assert_eq!(pick(&landscape, 720).unwrap().name, "720p");
        assert_eq!(pick(&landscape, 1080).unwrap().name, "1080p");
        assert_eq!(pick(&landscape, 600).unwrap().name, "480p");
        let portrait = [rung("1080p", 1080, 1920), rung("720p", 720, 1280)];
        assert_eq!(pick(&portrait, 720).unwrap().name, "720p");
        // Nothing small enough: the smallest there is.
        assert_eq!(pick(&landscape, 100).unwrap().name, "480p");
        assert!(pick(&[], 720).is_none());
    }

    #[test]
    fn the_remux_copies_both_streams_and_puts_the_index_first() {
        let args = args(Path::new("/w/v.mp4"), Some(Path::new("/w/a.mp4")), Path::new("/w/out.mp4"));
        let joined = args.join(" ");
        assert!(joined.contains("-format_whitelist mov -i /w/v.mp4"), "{joined}");
        assert!(joined.contains("-format_whitelist mov -i /w/a.mp4"), "{joined}");
        assert!(joined.contains("-map 0:v:0 -map 1:a:0 -c copy -movflags +faststart -f mp4 /w/out.mp4"), "{joined}");
        let silent = super::args(Path::new("/w/v.mp4"), None, Path::new("/w/out.mp4")).join(" ");
        assert!(!silent.contains("1:a:0"), "{silent}");
    }
}
