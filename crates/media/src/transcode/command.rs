//! The two ffmpeg commands of a transcode. The ladder decodes the picture once and
//! encodes every rung: the picture's own filters (deinterlace, tone-map), one `split`,
//! one `scale` per rung, H.264 high profile at the rate control of [`super::rate`],
//! keyframes at fixed times (every second for the four opening 1 s segments, then every
//! 4 s segment; no scene-cut keyframes, so every rung switches at the same instants), fMP4
//! HLS segments, and machine-readable progress on stdout. The audio command encodes each kept
//! audio stream once (AAC-LC, at its layout and loudness gain) into the HLS audio group
//! every rung refers to. They are two processes so the picture starts at once while the
//! audio waits for its loudness measurement, and neither holds up the other.

use std::path::Path;

use super::{
    ladder::Rung,
    loudness::{self, LoudnessTarget},
    picture::Picture,
    rate::Encoder,
    storyboard,
    tracks::AudioRendition,
};
use crate::ffmpeg;

/// Segment length in seconds; the GOP equals it.
pub const SEGMENT_SECS: u32 = 4;

/// The first segment's worth of picture is cut into 1 s segments, so a player can start
/// once the first second of every rung is encoded (time to first playable) rather than
/// the first four; from then on segments are `SEGMENT_SECS` long. Every rung has the
/// same keyframes, so every rung has the same segments.
const OPENING_SEGMENT_SECS: u32 = 1;

/// Titles shorter than this get no opening segments: they are ready soon anyway, and
/// three more keyframes would be a real share of a few seconds' bytes.
const OPENING_MIN_DURATION_SECS: f64 = 60.0;

/// Whether a title of `duration_secs` opens with short segments.
pub fn opening_segments(duration_secs: f64) -> bool {
    duration_secs >= OPENING_MIN_DURATION_SECS
}

/// Everything the ladder depends on, as typed values.
pub struct Ladder<'a> {
    pub source: &'a Path,
    pub out_dir: &'a Path,
    pub rungs: &'a [Rung],
    pub frame_rate: f64,
    pub picture: Picture,
    pub encoder: &'a Encoder,
    /// 1 s segments first (see [`opening_segments`]).
    pub opening_segments: bool,
    /// The pixel limit of the source guards (see [`crate::ffmpeg::source_guards`]).
    pub max_pixels: u64,
    /// Storyboard thumbnails from the same decode as the ladder, as an image2 pattern.
    pub storyboard: Option<(storyboard::Plan, &'a Path)>,
}

/// Everything the audio command depends on.
pub struct AudioGroup<'a> {
    pub source: &'a Path,
    pub out_dir: &'a Path,
    /// Non-empty: a silent source has no audio command.
    pub audio: &'a [AudioRendition],
    pub loudness: &'a LoudnessTarget,
    pub max_pixels: u64,
}

fn push(args: &mut Vec<String>, items: &[&str]) {
    args.extend(items.iter().map(|s| (*s).to_owned()));
}

/// The start of both commands: quiet, guarded, one input.
fn input(source: &Path, max_pixels: u64) -> Vec<String> {
    let mut args = ffmpeg::base_args();
    args.extend(ffmpeg::guarded_input(source, max_pixels));
    args
}

/// The HLS muxer writing each stream of `map` (`v:0,name:720p`) into its own folder of
/// `out_dir`; ffmpeg's own master goes to `master`, where ottr reads the CODECS it found.
/// The muxer cuts at the first keyframe at or after `segment_secs` times the segments
/// so far, so with 1 it cuts at every keyframe and the keyframes decide the segments.
fn hls(args: &mut Vec<String>, out_dir: &Path, map: &[String], master: &str, segment_secs: u32) {
    let out = out_dir.to_string_lossy();
    push(
        args,
        &[
            "-f",
            "hls",
            "-hls_time",
            &segment_secs.to_string(),
            // EVENT while it grows; the uploader marks the finished playlists VOD.
            "-hls_playlist_type",
            "event",
            "-hls_segment_type",
            "fmp4",
            "-hls_flags",
            "independent_segments+temp_file",
            "-hls_fmp4_init_filename",
            "init.mp4",
            "-hls_segment_filename",
            &format!("{out}/%v/seg_%05d.m4s"),
            "-master_pl_name",
            master,
            "-var_stream_map",
            &map.join(" "),
            &format!("{out}/%v/index.m3u8"),
        ],
    );
}

impl Ladder<'_> {
    pub fn args(&self) -> Vec<String> {
        let mut args = input(self.source, self.max_pixels);
        // Progress as key=value blocks on stdout; errors only on stderr.
        args.splice(0..0, ["-nostats", "-progress", "pipe:1"].map(String::from));
        self.filters(&mut args);
        self.video(&mut args);
        let map: Vec<String> = self.rungs.iter().enumerate().map(|(i, r)| format!("v:{i},name:{}", r.name)).collect();
        // With opening segments, cut at every keyframe: the keyframes make the short
        // opening segments, then the regular ones.
        let cut = if self.opening_segments { OPENING_SEGMENT_SECS } else { SEGMENT_SECS };
        hls(&mut args, self.out_dir, &map, "ffmpeg_master.m3u8", cut);
        self.sheet(&mut args);
        args
    }

    /// Decode once: fix the picture, cap the frame rate, split, scale each branch (and tile
    /// the storyboard).
    fn filters(&self, args: &mut Vec<String>) {
        let n = self.rungs.len();
        let branches = n + usize::from(self.storyboard.is_some());
        let outs: String = (0..branches).map(|i| format!("[s{i}]")).collect();
        let picture = self.picture.filters().map(|f| f + ",").unwrap_or_default();
        let mut graph = format!("[0:v]{picture}fps={:.3},split={branches}{outs}", self.frame_rate);
        for (i, rung) in self.rungs.iter().enumerate() {
            graph.push_str(&format!(";[s{i}]scale={}:{},setsar=1,format=yuv420p[v{i}]", rung.width, rung.height));
        }
        if let Some((plan, _)) = &self.storyboard {
            graph.push_str(&format!(";[s{n}]{}[thumbs]", plan.filter()));
        }
        push(args, &["-filter_complex", &graph]);
    }

    /// The storyboard thumbnails: a second output of the same process, one JPEG each.
    fn sheet(&self, args: &mut Vec<String>) {
        if let Some((_, pattern)) = &self.storyboard {
            push(args, &["-map", "[thumbs]", "-q:v", "5", "-f", "image2", &pattern.to_string_lossy()]);
        }
    }

    fn video(&self, args: &mut Vec<String>) {
        let gop = ((self.frame_rate * f64::from(SEGMENT_SECS)).round() as u32).max(1).to_string();
        for (i, rung) in self.rungs.iter().enumerate() {
            push(args, &["-map", &format!("[v{i}]")]);
            args.extend(self.encoder.rung_args(i, rung));
        }
        push(args, &["-preset", &self.encoder.preset, "-g", &gop, "-keyint_min", &gop, "-sc_threshold", "0"]);
        push(args, self.picture.output_tags());
        // Keyframes at exact segment boundaries whatever the frame timing: every second
        // for the opening segments, then every SEGMENT_SECS.
        push(args, &["-force_key_frames", &keyframes(self.opening_segments)]);
    }
}

/// The keyframe times as an ffmpeg expression: 0, 4, 8, …, or with opening segments
/// 0, 1, 2, 3, then 4, 8, 12, …
fn keyframes(opening_segments: bool) -> String {
    let every = SEGMENT_SECS;
    if !opening_segments {
        return format!("expr:gte(t,n_forced*{every})");
    }
    let opening = SEGMENT_SECS / OPENING_SEGMENT_SECS;
    format!("expr:if(lt(t,{every}),gte(t,n_forced*{OPENING_SEGMENT_SECS}),gte(t,{every}*(n_forced-{})))", opening - 1)
}

impl AudioGroup<'_> {
    /// One AAC encode per rendition, each from its stream through its layout and gain.
    pub fn args(&self) -> Vec<String> {
        let mut args = input(self.source, self.max_pixels);
        let graph: Vec<String> = self
            .audio
            .iter()
            .enumerate()
            .map(|(k, a)| format!("[0:a:{}]{}[a{k}]", a.source_index, loudness::filter(a, self.loudness)))
            .collect();
        push(&mut args, &["-filter_complex", &graph.join(";")]);
        for (k, audio) in self.audio.iter().enumerate() {
            push(
                &mut args,
                &[
                    "-map",
                    &format!("[a{k}]"),
                    &format!("-c:a:{k}"),
                    "aac",
                    &format!("-b:a:{k}"),
                    &format!("{}k", audio.kbps),
                ],
            );
        }
        let map: Vec<String> = self.audio.iter().enumerate().map(|(k, a)| format!("a:{k},name:{}", a.name)).collect();
        hls(&mut args, self.out_dir, &map, "ffmpeg_audio_master.m3u8", SEGMENT_SECS);
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcode::ladder::plan;

    fn stereo(index: usize, name: &str) -> AudioRendition {
        AudioRendition {
            name: name.into(),
            source_index: index,
            language: String::new(),
            label: name.into(),
            channels: 2,
            kbps: 128,
            default: index == 0,
            measured: None,
            result: None,
            bytes: None,
        }
    }

    fn args() -> Vec<String> {
        let rungs = plan(1280, 720);
        Ladder {
            source: Path::new("/tmp/in.mp4"),
            out_dir: Path::new("/tmp/out"),
            rungs: &rungs,
            frame_rate: 30.0,
            picture: Picture::default(),
            encoder: &Encoder { preset: "veryfast".into(), crf: 0.0 },
            opening_segments: false,
            max_pixels: 1920 * 1080,
            storyboard: None,
        }
        .args()
    }

    fn after<'a>(args: &'a [String], flag: &str) -> &'a str {
        let at = args.iter().position(|a| a == flag).unwrap_or_else(|| panic!("{flag} missing"));
        &args[at + 1]
    }

    #[test]
    fn one_input_one_split_and_a_scale_per_rung() {
        let args = args();
        assert_eq!(args.iter().filter(|a| *a == "-i").count(), 1, "decoded once");
        let graph = after(&args, "-filter_complex");
        assert!(graph.starts_with("[0:v]fps=30.000,split=3[s0][s1][s2]"), "{graph}");
        assert!(graph.contains("[s1]scale=854:480"), "{graph}");
        assert!(
            args.iter().position(|a| a == "-protocol_whitelist") < args.iter().position(|a| a == "-i"),
            "guards precede the input"
        );
    }

    #[test]
    fn the_gop_is_the_segment_and_scene_cuts_add_no_keyframes() {
        let args = args();
        assert_eq!(after(&args, "-g"), "120");
        assert_eq!(after(&args, "-keyint_min"), "120");
        assert_eq!(after(&args, "-sc_threshold"), "0");
        assert_eq!(after(&args, "-hls_time"), "4");
        assert_eq!(after(&args, "-force_key_frames"), "expr:gte(t,n_forced*4)");
        assert_eq!(after(&args, "-b:v:0"), "2500k");
        assert_eq!(after(&args, "-maxrate:v:0"), "2750k");
        assert_eq!(after(&args, "-profile:v:2"), "high");
    }

    #[test]
    fn a_long_title_opens_with_one_second_segments() {
        assert!(!opening_segments(59.0) && opening_segments(60.0));
        let rungs = plan(1280, 720);
        let encoder = Encoder::default();
        let args = Ladder {
            source: Path::new("/tmp/in.mp4"),
            out_dir: Path::new("/tmp/out"),
            rungs: &rungs,
            frame_rate: 30.0,
            picture: Picture::default(),
            encoder: &encoder,
            opening_segments: true,
            max_pixels: 1920 * 1080,
            storyboard: None,
        }
        .args();
        // Keyframes at 0, 1, 2, 3, then every 4 s; the muxer cuts at each of them.
        assert_eq!(after(&args, "-force_key_frames"), "expr:if(lt(t,4),gte(t,n_forced*1),gte(t,4*(n_forced-3)))");
        assert_eq!(after(&args, "-hls_time"), "1");
        assert_eq!(after(&args, "-g"), "120", "the longest GOP is still the segment");
        assert_eq!(after(&args, "-crf:v:0"), "21");
    }

    #[test]
    fn the_storyboard_is_a_branch_of_the_same_decode() {
        let rungs = plan(1920, 1080);
        let sheet = Path::new("/tmp/out/thumbs/%04d.jpg");
        let args = Ladder {
            source: Path::new("/tmp/in.mp4"),
            out_dir: Path::new("/tmp/out"),
            rungs: &rungs,
            frame_rate: 25.0,
            picture: Picture { deinterlaced: true, tone_mapped: None },
            encoder: &Encoder { preset: "veryfast".into(), crf: 0.0 },
            opening_segments: false,
            max_pixels: 1920 * 1080,
            storyboard: Some((storyboard::Plan::new(30.0, 1920, 1080), sheet)),
        }
        .args();
        assert_eq!(args.iter().filter(|a| *a == "-i").count(), 1);
        let graph = after(&args, "-filter_complex");
        assert!(graph.contains("split=5") && graph.contains(";[s4]fps=1/1,scale=160:90,setsar=1[thumbs]"), "{graph}");
        assert!(graph.starts_with("[0:v]bwdif=mode=send_frame:parity=auto:deint=all,fps=25.000,split=5"), "{graph}");
        assert_eq!(args.last().unwrap(), "/tmp/out/thumbs/%04d.jpg");
    }

    #[test]
    fn the_ladder_is_video_only_and_each_audio_stream_is_encoded_once_into_the_group() {
        let ladder = args();
        assert_eq!(after(&ladder, "-var_stream_map"), "v:0,name:720p v:1,name:480p v:2,name:360p");
        assert!(!ladder.iter().any(|a| a.contains("0:a:") || a.starts_with("-c:a")));
        let audio = [stereo(0, "audio_0"), stereo(1, "audio_1")];
        let group = AudioGroup {
            source: Path::new("/tmp/in.mkv"),
            out_dir: Path::new("/tmp/out"),
            audio: &audio,
            loudness: &LoudnessTarget::default(),
            max_pixels: 1920 * 1080,
        }
        .args();
        assert_eq!(group.iter().filter(|a| a.starts_with("-c:a:")).count(), 2, "one encode per language, not per rung");
        assert_eq!(after(&group, "-var_stream_map"), "a:0,name:audio_0 a:1,name:audio_1");
        assert_eq!(after(&group, "-hls_time"), "4", "audio has no short opening segments");
        let graph = after(&group, "-filter_complex");
        assert!(graph.contains(";[0:a:1]aformat=channel_layouts=stereo,aresample=48000[a1]"), "{graph}");
        assert_eq!(
            after(&group, "-master_pl_name"),
            "ffmpeg_audio_master.m3u8",
            "the ladder's master is not overwritten"
        );
        assert!(group.iter().position(|a| a == "-protocol_whitelist") < group.iter().position(|a| a == "-i"));
    }

    #[test]
    fn a_tone_mapped_picture_is_tagged_bt709() {
        let rungs = plan(1280, 720);
        let args = Ladder {
            source: Path::new("/tmp/in.mp4"),
            out_dir: Path::new("/tmp/out"),
            rungs: &rungs,
            frame_rate: 30.0,
            picture: Picture { deinterlaced: false, tone_mapped: Some(crate::probe::DynamicRange::Pq) },
            encoder: &Encoder { preset: "veryfast".into(), crf: 0.0 },
            opening_segments: false,
            max_pixels: 1920 * 1080,
            storyboard: None,
        }
        .args();
        assert!(after(&args, "-filter_complex").starts_with("[0:v]zscale=tin=smpte2084"));
        assert_eq!(after(&args, "-color_trc"), "bt709");
    }
}
