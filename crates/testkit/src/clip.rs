//! Test clips made by ffmpeg from its lavfi sources (a moving test pattern and a sine
//! tone), so no test or benchmark depends on a media file checked into the repository.

use std::path::{Path, PathBuf};

/// What to generate and how to encode it; [`Clip::make`] runs ffmpeg.
#[derive(Clone, Debug)]
pub struct Clip {
    video: String,
    audio: bool,
    preset: String,
    output_args: Vec<String>,
}

impl Clip {
    /// The `testsrc2` pattern at `size` (`"1280x720"`), `rate` frames per second, `seconds` long.
    pub fn testsrc(size: &str, rate: u32, seconds: u32) -> Self {
        Self::lavfi(&format!("testsrc2=size={size}:rate={rate}:duration={seconds}"))
    }

    /// Any lavfi video source, e.g. `"testsrc2=size=320x240:rate=25:duration=2"`.
    pub fn lavfi(video: &str) -> Self {
        Self { video: video.to_owned(), audio: false, preset: "ultrafast".into(), output_args: Vec::new() }
    }

    /// Adds a 440 Hz tone at 48 kHz (AAC), cut to the video's length.
    pub fn with_audio(mut self, audio: bool) -> Self {
        self.audio = audio;
        self
    }

    /// The x264 preset (`ultrafast` unless set).
    pub fn preset(mut self, preset: &str) -> Self {
        preset.clone_into(&mut self.preset);
        self
    }

    /// Output options added before the codecs, e.g. `["-pix_fmt", "yuv420p"]` or `["-b:v", "8M"]`.
    pub fn args<S: AsRef<str>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.output_args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// 8-bit 4:2:0, what every player decodes.
    pub fn yuv420p(self) -> Self {
        self.args(["-pix_fmt", "yuv420p"])
    }

    /// The ffmpeg arguments that write the clip to `out`.
    pub fn command_args(&self, out: &Path) -> Vec<String> {
        let mut args: Vec<String> = ["-v", "error", "-y", "-f", "lavfi", "-i", &self.video].map(String::from).into();
        if self.audio {
            args.extend(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-shortest"].map(String::from));
        }
        args.extend(self.output_args.iter().cloned());
        args.extend(["-c:v", "libx264", "-preset", &self.preset].map(String::from));
        if self.audio {
            args.extend(["-c:a", "aac"].map(String::from));
        }
        args.push(out.to_string_lossy().into_owned());
        args
    }

    /// Writes the clip to `out` and returns that path.
    pub fn make(&self, out: &Path) -> anyhow::Result<PathBuf> {
        let mut ffmpeg = std::process::Command::new("ffmpeg");
        crate::process::run(ffmpeg.args(self.command_args(out)), format_args!("make {}", out.display()))?;
        Ok(out.to_owned())
    }

    /// Makes the clip in `dir` under `name` and returns its bytes.
    pub fn bytes(&self, dir: &Path, name: &str) -> anyhow::Result<Vec<u8>> {
        std::fs::create_dir_all(dir)?;
        Ok(std::fs::read(self.make(&dir.join(name))?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clip_with_sound_has_both_streams_and_the_asked_length() {
        let dir = std::env::temp_dir().join(format!("ottr-testkit-clip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = Clip::testsrc("320x240", 25, 2).with_audio(true).yuv420p().make(&dir.join("c.mp4")).unwrap();
        let probe = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-show_entries", "stream=codec_type,width:format=duration", "-of", "json"])
            .arg(&path)
            .output()
            .unwrap();
        let probe: serde_json::Value = serde_json::from_slice(&probe.stdout).unwrap();
        let kinds: Vec<&str> =
            probe["streams"].as_array().unwrap().iter().map(|s| s["codec_type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["video", "audio"]);
        assert_eq!(probe["streams"][0]["width"], 320);
        let seconds: f64 = probe["format"]["duration"].as_str().unwrap().parse().unwrap();
        assert!((1.9..2.2).contains(&seconds), "{seconds}");
        assert!(Clip::lavfi("no_such_source").make(&dir.join("bad.mp4")).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
