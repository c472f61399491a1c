//! The seed design's transcode, as written, for the benchmarks to compare with: one
//! ffmpeg run per rendition, libx264 at its default preset (medium) with plain `-b:v` at the
//! rung's seed rate (no cap), the 4-second GOP of its 4-second HLS segments, and, when
//! asked, AAC 128k stereo muxed into every rendition. The same run with another encoder
//! at a CRF ([`other_rung_args`]) is how `bench/quality` compares encoders ottr does not
//! ship.

use std::path::Path;

use ottr_media::transcode::ladder::Rung;

/// The arguments of the seed's run for one rung, writing `index.m3u8` and its segments
/// into `out`.
pub fn rung_args(source: &Path, rung: &Rung, frame_rate: f64, out: &Path, audio: bool) -> Vec<String> {
    let video = vec!["-c:v".into(), "libx264".into(), "-b:v".into(), format!("{}k", rung.video_kbps)];
    run_args(source, rung, frame_rate, out, audio, video)
}

/// The seed's run for one rung with `encoder` (an ffmpeg encoder: libsvtav1, libx265, ...)
/// at `preset` and constant quality `crf` instead of libx264's average rate, uncapped:
/// the most an encoder can make of the rung, with the seed's GOP and segments.
pub fn other_rung_args(source: &Path, rung: &Rung, frame_rate: f64, out: &Path, other: &OtherEncoder) -> Vec<String> {
    let mut video: Vec<String> = ["-c:v", &other.encoder, "-preset", &other.preset].map(String::from).into();
    video.extend(["-crf".into(), format!("{}", other.crf)]);
    if other.encoder == "libx265" {
        // Closed GOPs at the seed's fixed keyframes only, as every HLS rung needs.
        video.extend(["-tag:v", "hvc1", "-x265-params", "log-level=error:scenecut=0:open-gop=0"].map(String::from));
    }
    run_args(source, rung, frame_rate, out, false, video)
}

/// An encoder ottr does not ship, as `bench/quality` tries it.
#[derive(Clone, Debug, PartialEq)]
pub struct OtherEncoder {
    pub encoder: String,
    pub preset: String,
    pub crf: f32,
}

fn run_args(source: &Path, rung: &Rung, frame_rate: f64, out: &Path, audio: bool, video: Vec<String>) -> Vec<String> {
    let gop = ((frame_rate * 4.0).round() as u32).max(1).to_string();
    let out = out.to_string_lossy();
    let mut args: Vec<String> = ["-y", "-v", "error", "-i"].map(String::from).into();
    args.push(source.to_string_lossy().into_owned());
    args.extend(["-map", "0:v:0", "-vf"].map(String::from));
    args.push(format!("scale={}:{},setsar=1,format=yuv420p", rung.width, rung.height));
    args.extend(video);
    args.extend(["-g".into(), gop.clone(), "-keyint_min".into(), gop, "-sc_threshold".into(), "0".into()]);
    if audio {
        args.extend(["-map", "0:a:0?", "-c:a", "aac", "-b:a", "128k", "-ac", "2"].map(String::from));
    } else {
        args.push("-an".into());
    }
    args.extend(
        ["-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4"].map(String::from),
    );
    args.extend(["-hls_segment_filename".into(), format!("{out}/seg_%05d.m4s"), format!("{out}/index.m3u8")]);
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_is_an_average_rate_at_the_default_preset() {
        let rung = &ottr_media::transcode::ladder::plan(1280, 720)[0];
        let args = rung_args(Path::new("/in.mp4"), rung, 25.0, Path::new("/out"), false);
        assert!(args.windows(2).any(|w| w == ["-b:v", "2500k"]));
        assert!(args.windows(2).any(|w| w == ["-g", "100"]));
        assert!(!args.iter().any(|a| a == "-preset" || a == "-maxrate" || a.starts_with("-crf")));
        assert_eq!(args.last().map(String::as_str), Some("/out/index.m3u8"));
    }

    #[test]
    fn another_encoder_gets_the_seeds_run_at_a_crf() {
        let rung = &ottr_media::transcode::ladder::plan(1280, 720)[0];
        let other = OtherEncoder { encoder: "libsvtav1".into(), preset: "10".into(), crf: 28.0 };
        let args = other_rung_args(Path::new("/in.mp4"), rung, 25.0, Path::new("/out"), &other);
        assert!(args.windows(2).any(|w| w == ["-c:v", "libsvtav1"]));
        assert!(args.windows(2).any(|w| w == ["-preset", "10"]));
        assert!(args.windows(2).any(|w| w == ["-crf", "28"]));
        assert!(args.windows(2).any(|w| w == ["-g", "100"]));
        assert!(!args.iter().any(|a| a == "-b:v" || a == "libx264"));
    }
}
