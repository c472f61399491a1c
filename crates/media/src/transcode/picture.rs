//! What the picture needs before it is scaled into rungs: interlaced sources are
//! deinterlaced (`bwdif`, one frame per frame), and HDR sources (PQ or HLG, BT.2020) are
//! tone-mapped to SDR BT.709 (`zscale` to linear light, `tonemap` hable, back to BT.709),
//! so players without HDR show them as they were meant instead of washed out. Both run
//! once, ahead of the ladder's `split`.

use std::{path::Path, time::Duration};

use serde::{Deserialize, Serialize};

use crate::{
    ffmpeg,
    probe::{DynamicRange, Scan, SourceInfo},
    process::{self, ProcessError},
};

/// Frames `idet` looks at when the stream does not say how it is scanned.
const IDET_FRAMES: u32 = 250;
const IDET_LIMIT: Duration = Duration::from_secs(300);

/// What was done to the picture, recorded on the asset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Picture {
    pub deinterlaced: bool,
    /// The source's dynamic range when it was tone-mapped to SDR.
    pub tone_mapped: Option<DynamicRange>,
}

impl Picture {
    pub fn new(info: &SourceInfo, interlaced: bool) -> Self {
        let tone_mapped = (info.dynamic_range != DynamicRange::Sdr).then_some(info.dynamic_range);
        Self { deinterlaced: interlaced, tone_mapped }
    }

    /// The filters ahead of the ladder's `fps` and `split`, if any.
    pub fn filters(&self) -> Option<String> {
        let mut chain = Vec::new();
        if self.deinterlaced {
            chain.push("bwdif=mode=send_frame:parity=auto:deint=all".to_owned());
        }
        if let Some(range) = self.tone_mapped {
            let transfer = if range == DynamicRange::Hlg { "arib-std-b67" } else { "smpte2084" };
            chain.push(format!(
                "zscale=tin={transfer}:min=bt2020nc:pin=bt2020:rin=tv:t=linear:npl=100,format=gbrpf32le,\
                 zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
            ));
        }
        (!chain.is_empty()).then(|| chain.join(","))
    }

    /// Colour tags for the encoded rungs: a tone-mapped picture is BT.709 and says so.
    pub fn output_tags(&self) -> &'static [&'static str] {
        if self.tone_mapped.is_some() {
            &["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]
        } else {
            &[]
        }
    }
}

/// Whether the source must be deinterlaced: as its stream says, or, when it does not, as
/// `idet` finds over its first frames.
pub async fn interlaced(source: &Path, info: &SourceInfo, max_pixels: u64) -> Result<bool, ProcessError> {
    match info.scan {
        Scan::Interlaced => Ok(true),
        Scan::Progressive => Ok(false),
        Scan::Unknown => {
            let log = process::run_logged("ffmpeg", &idet_args(source, max_pixels), IDET_LIMIT).await?;
            Ok(idet_verdict(&log))
        }
    }
}

fn idet_args(source: &Path, max_pixels: u64) -> Vec<String> {
    let mut args = ffmpeg::report_args();
    args.extend(ffmpeg::guarded_input(source, max_pixels));
    args.extend(["-map", "0:v:0", "-an", "-sn", "-vf", "idet"].map(String::from));
    args.extend(["-frames:v".to_owned(), IDET_FRAMES.to_string(), "-f".into(), "null".into(), "-".into()]);
    args
}

/// Interlaced when most frames `idet` could decide on were fields (its multi-frame count).
pub fn idet_verdict(log: &str) -> bool {
    // The filter's own line (a tag of the file is printed indented, never at a line's start).
    let found = log.lines().rev().find(|l| l.starts_with("[Parsed_idet_") && l.contains("Multi frame detection:"));
    let Some(line) = found else { return false };
    let count = |key: &str| -> u64 {
        line.split(key).nth(1).and_then(|rest| rest.split_whitespace().next()).and_then(|n| n.parse().ok()).unwrap_or(0)
    };
    let fields = count("TFF:") + count("BFF:");
    fields > count("Progressive:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idet_decides_by_the_majority_of_decided_frames() {
        let interlaced = "[Parsed_idet_0 @ 0x1] Repeated Fields: Neither: 250\n[Parsed_idet_0 @ 0x1] Single frame detection: TFF: 200 BFF: 0 Progressive: 20 Undetermined: 30\n[Parsed_idet_0 @ 0x1] Multi frame detection: TFF: 240 BFF:   0 Progressive:   8 Undetermined:   2\n";
        assert!(idet_verdict(interlaced));
        let progressive =
            "[Parsed_idet_0 @ 0x1] Multi frame detection: TFF:   1 BFF:   0 Progressive: 249 Undetermined:   0\n";
        assert!(!idet_verdict(progressive));
        assert!(!idet_verdict("nothing"));
    }

    #[test]
    fn hdr_is_tone_mapped_and_tagged_and_sdr_is_left_alone() {
        let pq = Picture { deinterlaced: false, tone_mapped: Some(DynamicRange::Pq) };
        let chain = pq.filters().unwrap();
        assert!(
            chain.starts_with("zscale=tin=smpte2084:min=bt2020nc:pin=bt2020")
                && chain.contains("tonemap=tonemap=hable"),
            "{chain}"
        );
        assert!(chain.ends_with("format=yuv420p"));
        assert_eq!(pq.output_tags()[1], "bt709");
        let hlg = Picture { deinterlaced: true, tone_mapped: Some(DynamicRange::Hlg) };
        let chain = hlg.filters().unwrap();
        assert!(chain.starts_with("bwdif=") && chain.contains("tin=arib-std-b67"), "{chain}");
        assert_eq!(Picture::default().filters(), None);
        assert!(Picture::default().output_tags().is_empty());
    }
}
