//! The single ffmpeg command that decodes the source once and encodes every rung: the
//! picture's own filters (deinterlace, tone-map), one `split`, one `scale` per rung, H.264
//! high profile with a fixed GOP equal to the segment length (no scene-cut keyframes, so
//! every rung switches at the same instants), each kept audio stream encoded once into the
//! HLS audio group (AAC-LC, loudness-normalised), fMP4 HLS segments, and
//! machine-readable progress on stdout.

use std::path::Path;

use super::{
    ladder::Rung,
    loudness::{self, LoudnessTarget},
    picture::Picture,
    storyboard,
    tracks::{AUDIO_GROUP, AudioRendition},
};
use crate::ffmpeg;

/// Segment length in seconds; the GOP equals it.
pub const SEGMENT_SECS: u32 = 4;

/// Everything the command depends on, as typed values.
pub struct Ladder<'a> {
    pub source: &'a Path,
    pub out_dir: &'a Path,
    pub rungs: &'a [Rung],
    pub frame_rate: f64,
    /// The audio group's renditions; empty for a silent source.
    pub audio: &'a [AudioRendition],
    pub loudness: &'a LoudnessTarget,
    pub picture: Picture,
    pub preset: &'a str,
    /// The pixel limit of the source guards (see [`crate::ffmpeg::source_guards`]).
    pub max_pixels: u64,
    /// Storyboard thumbnails from the same decode as the ladder, as an image2 pattern.
    pub storyboard: Option<(storyboard::Plan, &'a Path)>,
}

fn push(args: &mut Vec<String>, items: &[&str]) {
    args.extend(items.iter().map(|s| (*s).to_owned()));
}

impl Ladder<'_> {
    pub fn args(&self) -> Vec<String> {
        let mut args = ffmpeg::base_args();
        // Progress as key=value blocks on stdout; errors only on stderr.
        push(&mut args, &["-nostats", "-progress", "pipe:1"]);
        args.extend(ffmpeg::source_guards(self.max_pixels));
        push(&mut args, &["-i", &self.source.to_string_lossy()]);
        self.filters(&mut args);
        self.video(&mut args);
        self.audio(&mut args);
        self.hls(&mut args);
        self.sheet(&mut args);
        args
    }

    /// Decode once: fix the picture, cap the frame rate, split, scale each branch (and tile
    /// the storyboard); each audio rendition gets its layout and gain.
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
        for (k, audio) in self.audio.iter().enumerate() {
            graph.push_str(&format!(";[0:a:{}]{}[a{k}]", audio.source_index, loudness::filter(audio, self.loudness)));
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
            push(
                args,
                &[
                    &format!("-c:v:{i}"),
                    "libx264",
                    &format!("-profile:v:{i}"),
                    "high",
                    &format!("-b:v:{i}"),
                    &format!("{}k", rung.video_kbps),
                    &format!("-maxrate:v:{i}"),
                    &format!("{}k", rung.maxrate_kbps()),
                    &format!("-bufsize:v:{i}"),
                    &format!("{}k", rung.bufsize_kbps()),
                ],
            );
        }
        push(args, &["-preset", self.preset, "-g", &gop, "-keyint_min", &gop, "-sc_threshold", "0"]);
        push(args, self.picture.output_tags());
        // Keyframes at exact segment boundaries whatever the frame timing.
        push(args, &["-force_key_frames", &format!("expr:gte(t,n_forced*{SEGMENT_SECS})")]);
    }

    /// One AAC encode per audio rendition, shared by every rung through the audio group.
    fn audio(&self, args: &mut Vec<String>) {
        for (k, audio) in self.audio.iter().enumerate() {
            push(
                args,
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
    }

    fn hls(&self, args: &mut Vec<String>) {
        let group = if self.audio.is_empty() { String::new() } else { format!(",agroup:{AUDIO_GROUP}") };
        let mut map: Vec<String> =
            self.rungs.iter().enumerate().map(|(i, r)| format!("v:{i}{group},name:{}", r.name)).collect();
        map.extend(self.audio.iter().enumerate().map(|(k, a)| format!("a:{k}{group},name:{}", a.name)));
        let out = self.out_dir.to_string_lossy();
        push(
            args,
            &[
                "-f",
                "hls",
                "-hls_time",
                &SEGMENT_SECS.to_string(),
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
                "ffmpeg_master.m3u8",
                "-var_stream_map",
                &map.join(" "),
                &format!("{out}/%v/index.m3u8"),
            ],
        );
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
        }
    }

    fn args(has_audio: bool) -> Vec<String> {
        let rungs = plan(1280, 720);
        let audio = if has_audio { vec![stereo(0, "audio_0")] } else { vec![] };
        Ladder {
            source: Path::new("/tmp/in.mp4"),
            out_dir: Path::new("/tmp/out"),
            rungs: &rungs,
            frame_rate: 30.0,
            audio: &audio,
            loudness: &LoudnessTarget::default(),
            picture: Picture::default(),
            preset: "veryfast",
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
        let args = args(true);
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
        let args = args(true);
        assert_eq!(after(&args, "-g"), "120");
        assert_eq!(after(&args, "-keyint_min"), "120");
        assert_eq!(after(&args, "-sc_threshold"), "0");
        assert_eq!(after(&args, "-hls_time"), "4");
        assert_eq!(after(&args, "-b:v:0"), "2500k");
        assert_eq!(after(&args, "-maxrate:v:0"), "2675k");
        assert_eq!(after(&args, "-profile:v:2"), "high");
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
            audio: &[],
            loudness: &LoudnessTarget::default(),
            picture: Picture { deinterlaced: true, tone_mapped: None },
            preset: "veryfast",
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
    fn each_audio_stream_is_encoded_once_into_the_group_and_left_out_without_audio() {
        assert_eq!(
            after(&args(true), "-var_stream_map"),
            "v:0,agroup:audio,name:720p v:1,agroup:audio,name:480p v:2,agroup:audio,name:360p a:0,agroup:audio,name:audio_0"
        );
        let rungs = plan(1920, 1080);
        let audio = [stereo(0, "audio_0"), stereo(1, "audio_1")];
        let two = Ladder {
            source: Path::new("/tmp/in.mkv"),
            out_dir: Path::new("/tmp/out"),
            rungs: &rungs,
            frame_rate: 25.0,
            audio: &audio,
            loudness: &LoudnessTarget::default(),
            picture: Picture::default(),
            preset: "veryfast",
            max_pixels: 1920 * 1080,
            storyboard: None,
        }
        .args();
        assert_eq!(two.iter().filter(|a| a.starts_with("-c:a:")).count(), 2, "one encode per language, not per rung");
        let graph = after(&two, "-filter_complex");
        assert!(graph.contains(";[0:a:1]aformat=channel_layouts=stereo,aresample=48000[a1]"), "{graph}");
        let silent = args(false);
        assert_eq!(after(&silent, "-var_stream_map"), "v:0,name:720p v:1,name:480p v:2,name:360p");
        assert!(!silent.iter().any(|a| a.contains("0:a:")));
    }

    #[test]
    fn a_tone_mapped_picture_is_tagged_bt709() {
        let rungs = plan(1280, 720);
        let args = Ladder {
            source: Path::new("/tmp/in.mp4"),
            out_dir: Path::new("/tmp/out"),
            rungs: &rungs,
            frame_rate: 30.0,
            audio: &[],
            loudness: &LoudnessTarget::default(),
            picture: Picture { deinterlaced: false, tone_mapped: Some(crate::probe::DynamicRange::Pq) },
            preset: "veryfast",
            max_pixels: 1920 * 1080,
            storyboard: None,
        }
        .args();
        assert!(after(&args, "-filter_complex").starts_with("[0:v]zscale=tin=smpte2084"));
        assert_eq!(after(&args, "-color_trc"), "bt709");
    }
}
