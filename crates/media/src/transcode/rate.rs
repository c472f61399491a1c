//! How each rung spends its bits. By default capped CRF: x264's constant rate factor sets
//! the picture quality every rung aims at, so a simple title (animation, a still camera)
//! takes fewer bits than its rung's nominal rate and a hard one (motion, grain) takes what
//! it needs up to the rung's cap (`-maxrate`, with a `-bufsize` of two seconds of it: x264
//! may spend up to a buffer more than the cap over a stretch, never a sustained rate
//! above it). The master's BANDWIDTH is measured from the segments once ready. `crf = 0`
//! encodes every rung at its nominal average rate under the same cap instead, for
//! operators who want predictable sizes more than fewer bytes.

use serde::Deserialize;

use super::ladder::Rung;

/// `OTTR__MEDIA__VIDEO__*`: the encoder settings of every rung.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct Encoder {
    /// x264 preset: slower ones give more picture per bit and take longer.
    pub preset: String,
    /// The quality target (x264's CRF; lower is better and bigger); 0 turns it off.
    pub crf: f32,
}

impl Default for Encoder {
    fn default() -> Self {
        Self { preset: "faster".into(), crf: 21.0 }
    }
}

impl Encoder {
    /// The rate-control arguments of output stream `i`, which encodes `rung`.
    pub fn rung_args(&self, i: usize, rung: &Rung) -> Vec<String> {
        let mut args = vec![format!("-c:v:{i}"), "libx264".into(), format!("-profile:v:{i}"), "high".into()];
        if self.crf > 0.0 {
            args.extend([format!("-crf:v:{i}"), format!("{}", self.crf)]);
        } else {
            args.extend([format!("-b:v:{i}"), format!("{}k", rung.video_kbps)]);
        }
        args.extend([
            format!("-maxrate:v:{i}"),
            format!("{}k", rung.maxrate_kbps()),
            format!("-bufsize:v:{i}"),
            format!("{}k", rung.bufsize_kbps()),
        ]);
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcode::ladder::plan;

    #[test]
    fn capped_crf_aims_at_quality_within_the_rungs_cap() {
        let rung = &plan(1280, 720)[0];
        let args = Encoder { preset: "faster".into(), crf: 21.5 }.rung_args(1, rung);
        assert_eq!(
            args,
            [
                "-c:v:1",
                "libx264",
                "-profile:v:1",
                "high",
                "-crf:v:1",
                "21.5",
                "-maxrate:v:1",
                "2750k",
                "-bufsize:v:1",
                "5500k"
            ]
        );
    }

    #[test]
    fn without_a_quality_target_a_rung_is_encoded_at_its_nominal_rate() {
        let rung = &plan(1280, 720)[0];
        let args = Encoder { preset: "veryfast".into(), crf: 0.0 }.rung_args(0, rung);
        assert!(args.windows(2).any(|w| w == ["-b:v:0", "2500k"]), "{args:?}");
        assert!(!args.iter().any(|a| a.starts_with("-crf")));
    }
}
