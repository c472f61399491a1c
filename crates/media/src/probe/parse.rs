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
    channels: Option<u32>,
    pix_fmt: Option<String>,
    color_transfer: Option<String>,
    color_primaries: Option<String>,
    field_order: Option<String>,
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
    #[serde(default)]
    default: u8,
    #[serde(default)]
    forced: u8,
    #[serde(default)]
    hearing_impaired: u8,
}

#[derive(Debug, Deserialize)]
struct SideData {
    rotation: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
struct Tags {
    rotate: Option<String>,
    language: Option<String>,
    title: Option<String>,
}

/// One audio stream of the source, `index` counting audio streams only (ffmpeg's `0:a:N`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioStream {
    pub index: usize,
    pub codec: String,
    pub channels: u32,
    /// ISO 639-2 as tagged (`eng`, `fra`), `und` when untagged.
    pub language: String,
    pub title: Option<String>,
    pub default: bool,
}

/// One subtitle stream of the source, `index` counting subtitle streams only (`0:s:N`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubtitleStream {
    pub index: usize,
    pub codec: String,
    pub language: String,
    pub title: Option<String>,
    pub forced: bool,
    pub hearing_impaired: bool,
}

impl SubtitleStream {
    /// Text subtitles become WebVTT; pictures of text (PGS, DVB, VobSub) cannot.
    pub fn is_text(&self) -> bool {
        ["mov_text", "subrip", "srt", "ass", "ssa", "webvtt", "text"].contains(&self.codec.as_str())
    }
}

/// How a source's picture is lit, as its transfer characteristic says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DynamicRange {
    #[default]
    Sdr,
    /// SMPTE ST 2084, as HDR10 and Dolby Vision profile 8 carry.
    Pq,
    /// ARIB STD-B67, as phones and broadcast record.
    Hlg,
}

/// Whether the picture is made of fields, as ffprobe's `field_order` says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scan {
    Progressive,
    Interlaced,
    /// Not said by the stream: `idet` decides.
    #[default]
    Unknown,
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
    // Added after the first assets were recorded: older rows read as the defaults.
    #[serde(default)]
    pub audio: Vec<AudioStream>,
    #[serde(default)]
    pub subtitles: Vec<SubtitleStream>,
    #[serde(default)]
    pub dynamic_range: DynamicRange,
    /// The transfer, primaries and pixel format as ffprobe named them, for people.
    #[serde(default)]
    pub color: Option<String>,
    #[serde(default)]
    pub scan: Scan,
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
    let kind = |kind: &'static str| output.streams.iter().filter(move |s| s.codec_type.as_deref() == Some(kind));
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
        audio: kind("audio").enumerate().map(|(index, s)| audio_stream(index, s)).collect(),
        subtitles: kind("subtitle").enumerate().map(|(index, s)| subtitle_stream(index, s)).collect(),
        dynamic_range: match video.color_transfer.as_deref() {
            Some("smpte2084") => DynamicRange::Pq,
            Some("arib-std-b67") => DynamicRange::Hlg,
            _ => DynamicRange::Sdr,
        },
        color: color(video),
        scan: match video.field_order.as_deref() {
            Some("progressive") => Scan::Progressive,
            Some("tt" | "bb" | "tb" | "bt") => Scan::Interlaced,
            _ => Scan::Unknown,
        },
    })
}

fn language(tags: &Tags) -> String {
    tags.language.clone().filter(|l| !l.is_empty()).unwrap_or_else(|| "und".into())
}

fn audio_stream(index: usize, stream: &Stream) -> AudioStream {
    AudioStream {
        index,
        codec: stream.codec_name.clone().unwrap_or_default(),
        channels: stream.channels.unwrap_or(2),
        language: language(&stream.tags),
        title: stream.tags.title.clone(),
        default: stream.disposition.default == 1,
    }
}

fn subtitle_stream(index: usize, stream: &Stream) -> SubtitleStream {
    SubtitleStream {
        index,
        codec: stream.codec_name.clone().unwrap_or_default(),
        language: language(&stream.tags),
        title: stream.tags.title.clone(),
        forced: stream.disposition.forced == 1,
        hearing_impaired: stream.disposition.hearing_impaired == 1,
    }
}

fn color(video: &Stream) -> Option<String> {
    let parts: Vec<&str> = [&video.pix_fmt, &video.color_primaries, &video.color_transfer]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
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
    fn every_audio_and_subtitle_stream_with_its_language() {
        let info = fixture("multi.json").unwrap();
        let audio: Vec<_> = info.audio.iter().map(|a| (a.index, a.language.as_str(), a.channels)).collect();
        assert_eq!(audio, vec![(0, "eng", 6), (1, "fra", 1)]);
        assert_eq!(info.audio[1].title.as_deref(), Some("Français"));
        let subs: Vec<_> =
            info.subtitles.iter().map(|s| (s.index, s.language.as_str(), s.forced, s.is_text())).collect();
        assert_eq!(subs, vec![(0, "eng", false, true), (1, "fra", true, true)]);
        assert_eq!((info.dynamic_range, info.scan), (DynamicRange::Sdr, Scan::Progressive));
    }

    #[test]
    fn pq_bt2020_is_hdr_and_field_order_tells_interlaced() {
        let hdr = fixture("hdr.json").unwrap();
        assert_eq!(hdr.dynamic_range, DynamicRange::Pq);
        assert_eq!(hdr.color.as_deref(), Some("yuv420p10le/bt2020/smpte2084"));
        assert!(hdr.audio.is_empty());
        assert_eq!(fixture("interlaced.json").unwrap().scan, Scan::Interlaced);
        // Rows recorded before these fields existed still read.
        let old = r#"{"container":"avi","duration_secs":1.0,"size_bytes":1,"width":2,"height":2,"rotation":0,
            "frame_rate":25.0,"video_codec":"h264","audio_codec":null,"streams":1}"#;
        let old: SourceInfo = serde_json::from_str(old).unwrap();
        assert_eq!((old.scan, old.dynamic_range, old.audio.len()), (Scan::Unknown, DynamicRange::Sdr, 0));
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
