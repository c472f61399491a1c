//! Probing a source with ffprobe, under the same allow-lists ffmpeg runs with: a local
//! file only (`-protocol_whitelist file`), known containers only, so a playlist dressed
//! as `.mp4` can neither read other files nor reach the network.

mod parse;

use std::{path::Path, time::Duration};

pub use parse::{FORMAT_WHITELIST, Limits, Rejection, SourceInfo, parse};

use crate::process::{self, ProcessError};

/// ffprobe on a small file takes about 0.1 s; a minute means something is wrong.
const PROBE_LIMIT: Duration = Duration::from_secs(60);

/// The input options every ffmpeg and ffprobe run of ottr's puts before `-i`.
pub fn input_guards(max_pixels: u64) -> Vec<String> {
    ["-protocol_whitelist", "file", "-format_whitelist", FORMAT_WHITELIST, "-max_pixels", &max_pixels.to_string()]
        .into_iter()
        .map(String::from)
        .collect()
}

/// Probes `path` and judges it. A file ffprobe cannot open becomes a [`Rejection`],
/// never an internal error: bad input is the uploader's problem, and says so.
pub async fn probe(path: &Path, limits: Limits) -> Result<SourceInfo, Rejection> {
    let mut args: Vec<String> = vec!["-v".into(), "error".into()];
    args.extend(input_guards(limits.max_pixels));
    args.extend(["-print_format", "json", "-show_format", "-show_streams", "-i"].map(String::from));
    args.push(path.to_string_lossy().into_owned());
    match process::run("ffprobe", &args, PROBE_LIMIT).await {
        Ok(json) => parse(&json, limits),
        Err(ProcessError::Failed { stderr_tail, .. }) if stderr_tail.contains("whitelist") => {
            Err(Rejection::UnsupportedContainer(stderr_tail))
        }
        Err(error @ ProcessError::Failed { .. }) => Err(Rejection::Unreadable(error.stderr_tail().to_owned())),
        Err(error) => Err(Rejection::Unreadable(error.to_string())),
    }
}
