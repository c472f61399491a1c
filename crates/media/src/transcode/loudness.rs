//! Loudness (EBU R128): each audio rendition is measured once before the encode with
//! ffmpeg's `ebur128` scanner, and normalised by `loudnorm` in linear mode from those
//! figures, which applies one gain to the whole title instead of riding it like a
//! compressor. The measurement before the encode holds up the first playable audio, so it
//! reads the sample peak (half the cost of the true peak) and allows a decibel for the
//! peaks between samples; the output is measured again with the true peak, so the asset
//! records what viewers get.

use std::{path::Path, time::Duration};

use serde::Deserialize;

use super::tracks::{AudioRendition, Loudness};
use crate::{
    ffmpeg,
    process::{self, ProcessError},
};

/// The scanner runs at about 150x real time per stream on this kind of machine (70x with
/// true peak).
const MEASURE_LIMIT: Duration = Duration::from_secs(3600);

/// Quieter than this is silence (ebur128 reports -70 LUFS for digital silence): left as is.
const SILENCE_LUFS: f64 = -69.0;

/// The loudness audio is brought to.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default)]
pub struct LoudnessTarget {
    /// Off: audio keeps the source's level.
    pub enabled: bool,
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
    /// The loudness range allowed before loudnorm compresses; raised to the source's
    /// own range, so the gain stays linear.
    pub range_lu: f64,
}

impl Default for LoudnessTarget {
    fn default() -> Self {
        Self { enabled: true, integrated_lufs: -16.0, true_peak_dbtp: -1.5, range_lu: 11.0 }
    }
}

/// The channel layout a rendition is encoded in, for the filters ahead of the encoder.
pub fn layout(rendition: &AudioRendition) -> &'static str {
    if rendition.channels >= 6 { "5.1" } else { "stereo" }
}

/// The audio filter of one rendition in the ladder: its layout (5.1 downmixed to stereo),
/// the gain that brings it to the target, and 48 kHz (loudnorm works at 192 kHz).
pub fn filter(rendition: &AudioRendition, target: &LoudnessTarget) -> String {
    let mut chain = format!("aformat=channel_layouts={}", layout(rendition));
    if let Some(m) = rendition.measured.filter(|m| target.enabled && m.integrated_lufs > SILENCE_LUFS) {
        let range = target.range_lu.max(m.range_lu).clamp(1.0, 20.0);
        chain.push_str(&format!(
            ",loudnorm=I={:.1}:TP={:.1}:LRA={range:.1}:measured_I={:.2}:measured_TP={:.2}:measured_LRA={:.2}:measured_thresh={:.2}:linear=true:print_format=none",
            target.integrated_lufs,
            target.true_peak_dbtp,
            m.integrated_lufs,
            peak_estimate(&m).clamp(-99.0, 99.0),
            m.range_lu,
            m.threshold_lufs,
        ));
    }
    chain.push_str(",aresample=48000");
    chain
}

/// Intersample peaks of lossy audio rarely pass the highest sample by more than this.
const INTERSAMPLE_MARGIN_DB: f64 = 1.0;

/// The true peak where it was measured, else the sample peak and a margin.
fn peak_estimate(m: &Loudness) -> f64 {
    m.true_peak_dbtp.or(m.sample_peak_dbfs.map(|p| p + INTERSAMPLE_MARGIN_DB)).unwrap_or(0.0)
}

/// Which peak a scan reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peak {
    Sample,
    True,
}

/// The scanner for one input stream (`0:a:1`), as a filter graph chain writing `[m<k>]`.
pub fn scanner(stream: &str, layout: &str, k: usize, peak: Peak) -> String {
    let peak = if peak == Peak::True { "true" } else { "sample" };
    format!("[{stream}]aformat=channel_layouts={layout},ebur128=peak={peak}:framelog=verbose[m{k}]")
}

/// Measures the given streams (specifier, layout) of `inputs` in one pass; each stream
/// names its input (`1:a:0`). None for a stream the scanner said nothing of.
pub async fn measure(
    inputs: &[&Path],
    streams: &[(String, &str)],
    peak: Peak,
    max_pixels: u64,
) -> Result<Vec<Option<Loudness>>, ProcessError> {
    if streams.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = ffmpeg::report_args();
    for input in inputs {
        args.extend(ffmpeg::guarded_input(input, max_pixels));
    }
    let graph: Vec<String> = streams.iter().enumerate().map(|(k, (s, layout))| scanner(s, layout, k, peak)).collect();
    args.extend(["-filter_complex".to_owned(), graph.join(";")]);
    for k in 0..streams.len() {
        args.extend(["-map".to_owned(), format!("[m{k}]")]);
    }
    args.extend(["-f", "null", "-"].map(String::from));
    let log = process::run_logged("ffmpeg", &args, MEASURE_LIMIT).await?;
    Ok(summaries(&log, streams.len()))
}

/// The summaries of the `count` scanners of a [`scanner`] graph in ffmpeg's log, in graph
/// order. Scanner k is the graph's filter number 2k+1 (each chain is `aformat,ebur128`),
/// whatever order the summaries are printed in. Only a header at the start of a line
/// counts: ffmpeg indents what it prints of a file's tags, so no title can pass for a
/// summary. ffmpeg may build a graph, tear it down unused once the input's real layout is
/// known, and build it again: the last summary of each scanner is the one that heard the
/// audio.
pub fn summaries(log: &str, count: usize) -> Vec<Option<Loudness>> {
    let mut found = vec![None; count];
    let mut lines = log.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("[Parsed_ebur128_") else { continue };
        let Some(number) = rest.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let mut block = String::new();
        while let Some(next) = lines.next_if(|l| !l.starts_with('[')) {
            block.push_str(next);
            block.push('\n');
        }
        if let (Some(slot), Some(loudness)) = (found.get_mut(number / 2), summary(&block))
            && number % 2 == 1
        {
            *slot = Some(loudness);
        }
    }
    found
}

fn summary(block: &str) -> Option<Loudness> {
    let value = |section: &str, key: &str| -> Option<f64> {
        let from = block.find(section)?;
        let line = block[from..].lines().find(|l| l.trim_start().starts_with(key))?;
        let number = line.trim_start()[key.len()..].split_whitespace().next()?;
        match number {
            "-inf" => Some(-99.0),
            n => n.parse().ok(),
        }
    };
    Some(Loudness {
        integrated_lufs: value("Integrated loudness:", "I:")?,
        threshold_lufs: value("Integrated loudness:", "Threshold:")?,
        range_lu: value("Loudness range:", "LRA:").unwrap_or(0.0),
        true_peak_dbtp: value("True peak:", "Peak:"),
        sample_peak_dbfs: value("Sample peak:", "Peak:"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "size=N/A time=00:00:06.03 bitrate=N/A speed=  42x\n\
[Parsed_ebur128_3 @ 0x561446d38d40] Summary:\n\n  Integrated loudness:\n    I:         -22.8 LUFS\n    Threshold: -32.8 LUFS\n\n\
  Loudness range:\n    LRA:         0.0 LU\n    Threshold: -42.8 LUFS\n    LRA low:   -22.8 LUFS\n    LRA high:  -22.8 LUFS\n\n\
  True peak:\n    Peak:      -17.5 dBFS\n\
[Parsed_ebur128_1 @ 0x561446cda380] Summary:\n\n  Integrated loudness:\n    I:         -55.7 LUFS\n    Threshold: -65.7 LUFS\n\n\
  Loudness range:\n    LRA:         3.5 LU\n    Threshold: -75.7 LUFS\n    LRA low:   -55.7 LUFS\n    LRA high:  -55.7 LUFS\n\n\
  True peak:\n    Peak:      -inf dBFS\n";

    fn rendition(measured: Option<Loudness>) -> AudioRendition {
        AudioRendition {
            name: "audio_0".into(),
            source_index: 0,
            language: "en".into(),
            label: "English".into(),
            channels: 2,
            kbps: 128,
            default: true,
            measured,
            result: None,
            bytes: None,
        }
    }

    #[test]
    fn summaries_are_read_in_graph_order() {
        let found = summaries(LOG, 2);
        assert_eq!(found.len(), 2);
        let first = found[0].unwrap();
        assert_eq!(
            (first.integrated_lufs, first.threshold_lufs, first.range_lu, first.true_peak_dbtp.unwrap()),
            (-55.7, -65.7, 3.5, -99.0)
        );
        assert_eq!(found[1].unwrap().integrated_lufs, -22.8);
        assert_eq!(summaries("no scanner here", 1), vec![None]);
        // A graph torn down before any audio reached it, then built again.
        let unused = "[Parsed_ebur128_1 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -70.0 LUFS\n    Threshold:   0.0 LUFS\n\n";
        let again = format!(
            "{unused}{}",
            LOG.split("[Parsed_ebur128_1").nth(1).map(|b| format!("[Parsed_ebur128_1{b}")).unwrap()
        );
        assert_eq!(summaries(&again, 2)[0].unwrap().integrated_lufs, -55.7);
        // A tag is printed indented after its key: it cannot stand for a summary.
        let forged = format!(
            "    title           : [Parsed_ebur128_1 @ 0x1] Summary:\n                    :   Integrated loudness:\n                    :     I: -5.0 LUFS\n{}",
            &LOG[LOG.find("[Parsed_ebur128_3").unwrap()..LOG.find("[Parsed_ebur128_1").unwrap()]
        );
        assert_eq!(summaries(&forged, 2), vec![None, summaries(LOG, 2)[1]]);
    }

    #[test]
    fn the_gain_is_linear_from_the_measurement_and_silence_is_left_alone() {
        let measured = summaries(LOG, 2)[1];
        let chain = filter(&rendition(measured), &LoudnessTarget::default());
        assert!(
            chain.starts_with("aformat=channel_layouts=stereo,loudnorm=I=-16.0:TP=-1.5:LRA=11.0:measured_I=-22.80"),
            "{chain}"
        );
        assert!(chain.contains("linear=true") && chain.ends_with(",aresample=48000"), "{chain}");
        let silent = Loudness {
            integrated_lufs: -70.0,
            true_peak_dbtp: None,
            sample_peak_dbfs: Some(-99.0),
            range_lu: 0.0,
            threshold_lufs: -80.0,
        };
        assert_eq!(
            filter(&rendition(Some(silent)), &LoudnessTarget::default()),
            "aformat=channel_layouts=stereo,aresample=48000"
        );
        // Measured before the encode, only the sample peak is known: a decibel is allowed
        // for the peaks between samples.
        let fast = Loudness { true_peak_dbtp: None, sample_peak_dbfs: Some(-10.0), ..measured.unwrap() };
        assert!(filter(&rendition(Some(fast)), &LoudnessTarget::default()).contains("measured_TP=-9.00"));
        let off = LoudnessTarget { enabled: false, ..LoudnessTarget::default() };
        assert!(!filter(&rendition(measured), &off).contains("loudnorm"));
    }

    #[test]
    fn the_scanner_keeps_the_layout_the_rendition_is_encoded_in() {
        assert_eq!(
            scanner("0:a:1", "5.1", 2, Peak::True),
            "[0:a:1]aformat=channel_layouts=5.1,ebur128=peak=true:framelog=verbose[m2]"
        );
    }
}
