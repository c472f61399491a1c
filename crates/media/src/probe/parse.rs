//! ffprobe's JSON, read by a pure function and judged against the limits, so both can be
//! tested on real ffprobe outputs kept as fixtures.

use serde::{Deserialize, Serialize};

use crate::ffmpeg::ALLOWED_CONTAINERS;

#[derive(Debug, Deserialize)]
struct Output {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Debug, Deserialize)]
struct Format {
    format_name: String,
    duration: Option<String>,
    size: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    duration: Option<String>,
    #[serde(default)]
    disposition: Disposition,
    #[serde(default)]
    side_data_list: Vec<SideData>,
    #[serde(default)]
    tags: Tags,
}

#[derive(Debug, Default, Deserialize)]
struct Disposition {
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Debug, Deserialize)]
struct SideData {
    rotation: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
struct Tags {
    rotate: Option<String>,
}

/// What ottr needs to know of a source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub container: String,
    pub duration_secs: f64,
    pub size_bytes: u64,
    /// Coded size; see [`SourceInfo::display_size`] for the upright picture.
    pub width: u32,
    pub height: u32,
    /// 0, 90, 180 or 270.
    pub rotation: i32,
    pub frame_rate: f64,
    pub video_codec: String,
    pub audio_codec: Option<String>,
    pub streams: usize,
}

impl SourceInfo {
    /// Width and height as shown, after rotation.
    pub fn display_size(&self) -> (u32, u32) {
        if self.rotation % 180 == 0 { (self.width, self.height) } else { (self.height, self.width) }
    }
}

/// Why a source cannot be transcoded, with the stable code it is reported under.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Rejection {
    #[error("the file has no video stream")]
    NoVideo,
    #[error("the container {0} is not accepted (mp4/mov, mkv/webm, avi, mpeg-ts and flv are)")]
    UnsupportedContainer(String),
    #[error("the file has no duration")]
    ZeroDuration,
    #[error("the video lasts {0:.0} s; at most {1} s are accepted")]
    TooLong(f64, u64),
    #[error("the picture is {0}x{1}; at most {2} pixels are accepted")]
    TooManyPixels(u32, u32, u64),
    #[error("the file has {0} streams; at most {1} are accepted")]
    TooManyStreams(usize, usize),
    #[error("the file cannot be read as video: {0}")]
    Unreadable(String),
}

/// What a source must stay within.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_duration_secs: u64,
    pub max_pixels: u64,
    pub max_streams: usize,
}

fn rate(text: Option<&str>) -> Option<f64> {
    let (num, den) = text?.split_once('/')?;
    let (num, den): (f64, f64) = (num.parse().ok()?, den.parse().ok()?);
    (num > 0.0 && den > 0.0).then(|| num / den)
}

fn seconds(text: Option<&str>) -> Option<f64> {
    text?.parse::<f64>().ok().filter(|d| d.is_finite() && *d > 0.0)
}

/// Reads ffprobe's `-show_format -show_streams` JSON and judges it against `limits`.
pub fn parse(json: &[u8], limits: Limits) -> Result<SourceInfo, Rejection> {
    let output: Output =
        serde_json::from_slice(json).map_err(|e| Rejection::Unreadable(format!("ffprobe said: {e}")))?;
    let format = output.format.ok_or_else(|| Rejection::Unreadable("no container found".into()))?;
    if !ALLOWED_CONTAINERS.contains(&format.format_name.as_str()) {
        return Err(Rejection::UnsupportedContainer(format.format_name));
    }
    if output.streams.len() > limits.max_streams {
        return Err(Rejection::TooManyStreams(output.streams.len(), limits.max_streams));
    }
    // Cover art is a "video" stream of one picture; it does not make a file a video.
    let video = output
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video") && s.disposition.attached_pic == 0)
        .ok_or(Rejection::NoVideo)?;
    let audio = output.streams.iter().find(|s| s.codec_type.as_deref() == Some("audio"));
    let (width, height) = (video.width.unwrap_or(0), video.height.unwrap_or(0));
    if width == 0 || height == 0 {
        return Err(Rejection::Unreadable("the video stream has no picture size".into()));
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(Rejection::TooManyPixels(width, height, limits.max_pixels));
    }
    let duration = seconds(format.duration.as_deref())
        .or_else(|| seconds(video.duration.as_deref()))
        .ok_or(Rejection::ZeroDuration)?;
    if duration > limits.max_duration_secs as f64 {
        return Err(Rejection::TooLong(duration, limits.max_duration_secs));
    }
    let rotation = video
        .side_data_list
        .iter()
        .find_map(|s| s.rotation)
        .or_else(|| video.tags.rotate.as_deref().and_then(|r| r.parse().ok()))
        .unwrap_or(0)
        .rem_euclid(360);
    Ok(SourceInfo {
        container: format.format_name,
        duration_secs: duration,
        size_bytes: format.size.and_then(|s| s.parse().ok()).unwrap_or(0),
        width,
        height,
        rotation: (rotation + 45) / 90 * 90 % 360,
        frame_rate: rate(video.avg_frame_rate.as_deref())
            .or_else(|| rate(video.r_frame_rate.as_deref()))
            .unwrap_or(0.0),
        video_codec: video.codec_name.clone().unwrap_or_default(),
        audio_codec: audio.and_then(|a| a.codec_name.clone()),
        streams: output.streams.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { max_duration_secs: 3600, max_pixels: 3840 * 2160, max_streams: 8 };

    fn fixture(name: &str) -> Result<SourceInfo, Rejection> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/probe/fixtures").join(name);
        parse(&std::fs::read(path).unwrap(), LIMITS)
    }

    #[test]
    fn a_1080p_mp4_with_audio() {
        let info = fixture("landscape.json").unwrap();
        assert_eq!((info.width, info.height, info.rotation), (1920, 1080, 0));
        assert_eq!(info.frame_rate, 30.0);
        assert_eq!(info.video_codec, "h264");
        assert_eq!(info.audio_codec.as_deref(), Some("aac"));
        assert!((info.duration_secs - 3.0).abs() < 0.1, "{}", info.duration_secs);
        assert_eq!(info.container, "mov,mp4,m4a,3gp,3g2,mj2");
    }

    #[test]
    fn portrait_without_audio() {
        let info = fixture("portrait_noaudio.json").unwrap();
        assert_eq!(info.display_size(), (720, 1280));
        assert_eq!(info.audio_codec, None);
    }

    #[test]
    fn odd_dimensions_in_matroska() {
        let info = fixture("odd.json").unwrap();
        assert_eq!((info.width, info.height), (641, 359));
        assert_eq!(info.container, "matroska,webm");
        assert_eq!(info.frame_rate, 24.0);
    }

    #[test]
    fn a_rotated_phone_video_is_upright_after_rotation() {
        let info = fixture("rotated.json").unwrap();
        assert_eq!((info.width, info.height), (1280, 720));
        assert_eq!(info.rotation, 90);
        assert_eq!(info.display_size(), (720, 1280));
    }

    #[test]
    fn audio_only_is_refused_as_having_no_video() {
        assert_eq!(fixture("audio_only.json"), Err(Rejection::NoVideo));
    }

    #[test]
    fn limits_refuse_long_huge_and_crowded_sources() {
        let json =
            std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/probe/fixtures/landscape.json"))
                .unwrap();
        let short = Limits { max_duration_secs: 1, ..LIMITS };
        assert!(matches!(parse(&json, short), Err(Rejection::TooLong(..))));
        let small = Limits { max_pixels: 1280 * 720, ..LIMITS };
        assert!(matches!(parse(&json, small), Err(Rejection::TooManyPixels(1920, 1080, _))));
        let few = Limits { max_streams: 1, ..LIMITS };
        assert!(matches!(parse(&json, few), Err(Rejection::TooManyStreams(2, 1))));
    }

    #[test]
    fn an_unknown_container_and_garbage_are_refused() {
        let hls = br#"{"streams":[{"codec_type":"video","width":1,"height":1}],"format":{"format_name":"hls","duration":"1"}}"#;
        assert!(matches!(parse(hls, LIMITS), Err(Rejection::UnsupportedContainer(_))));
        assert!(matches!(parse(b"{}", LIMITS), Err(Rejection::Unreadable(_))));
        assert!(matches!(parse(b"not json", LIMITS), Err(Rejection::Unreadable(_))));
        let no_duration =
            br#"{"streams":[{"codec_type":"video","width":2,"height":2}],"format":{"format_name":"avi"}}"#;
        assert_eq!(parse(no_duration, LIMITS), Err(Rejection::ZeroDuration));
    }
}
