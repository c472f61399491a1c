//! Probing a source with ffprobe, under the same guards ffmpeg runs with (see
//! [`crate::ffmpeg`]), and telling ffprobe's verdict on the file apart from our own
//! failure to run it: only the first is the uploader's problem.

mod parse;

use std::{path::Path, time::Duration};

use ottr_storage::ReadLocation;

pub use parse::{AudioStream, DynamicRange, Limits, Rejection, Scan, SourceInfo, SubtitleStream, parse};

use crate::{
    ffmpeg,
    process::{self, ProcessError},
};

/// ffprobe on a small file takes about 0.1 s; a minute means something is wrong.
const PROBE_LIMIT: Duration = Duration::from_secs(60);

/// Why a probe gave no [`SourceInfo`].
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// ffprobe read the file and it is not acceptable video.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// ffprobe could not be run at all (missing, or its pipes failed): ours, not the file's.
    #[error("ffprobe could not be run")]
    NotRun(#[source] ProcessError),
    /// The store could not be reached through its URL (refused, timed out, an HTTP error):
    /// the store's doing, to be tried again, not the file's.
    #[error("the stored source could not be read: {0}")]
    Unreachable(String),
}

/// What ffmpeg prints when an HTTP source could not be fetched, as opposed to read.
const NETWORK_FAILURES: &[&str] = &[
    "Connection refused",
    "Connection timed out",
    "Connection reset",
    "Server returned",
    "Failed to resolve",
    "Network is unreachable",
    "Input/output error",
];

/// `text` with every URL in it replaced: they are ours (the store's address, a presigned
/// query), not the uploader's business.
fn without_urls(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let bare = word.trim_end();
            if ["http://", "https://", "tcp://", "tls://"].iter().any(|scheme| bare.contains(scheme)) {
                format!("the source{}", &word[bare.len()..])
            } else {
                word.to_owned()
            }
        })
        .collect()
}

/// Probes the local file `path` and judges it (see [`probe_input`]).
pub async fn probe(path: &Path, limits: Limits) -> Result<SourceInfo, ProbeError> {
    probe_input(&ReadLocation::Path(path.to_owned()), limits).await
}

/// Probes a source where the store keeps it (a local file, or a presigned URL that only
/// the URL's own protocols may read) and judges it. ffprobe giving up on the file (an exit
/// code, or spinning past the limit on it) is a [`Rejection`]; failing to start it or to
/// read its output is not.
pub async fn probe_input(source: &ReadLocation, limits: Limits) -> Result<SourceInfo, ProbeError> {
    let mut args = ffmpeg::probe_base_args();
    args.extend(ffmpeg::source_guards_for(source, limits.max_pixels));
    args.extend(["-print_format", "json", "-show_format", "-show_streams", "-i"].map(String::from));
    args.push(source.as_input());
    // What ffprobe says goes to the uploader: it names the input, which is ours (a path on
    // this machine, or a presigned URL), so the input is named for what it is instead.
    let told = |text: &str| without_urls(&text.replace(&source.as_input(), "the source"));
    let by_url = matches!(source, ReadLocation::Url(_));
    match process::run("ffprobe", &args, PROBE_LIMIT).await {
        Ok(json) => Ok(parse(&json, limits)?),
        Err(ProcessError::Failed { stderr_tail, .. })
            if by_url && NETWORK_FAILURES.iter().any(|failure| stderr_tail.contains(failure)) =>
        {
            Err(ProbeError::Unreachable(told(&stderr_tail)))
        }
        Err(error @ ProcessError::TimedOut { .. }) if by_url => Err(ProbeError::Unreachable(told(&error.to_string()))),
        Err(ProcessError::Failed { stderr_tail, .. }) if stderr_tail.contains("whitelist") => {
            Err(Rejection::UnsupportedContainer(told(&stderr_tail)).into())
        }
        Err(error @ ProcessError::Failed { .. }) => Err(Rejection::Unreadable(told(error.stderr_tail())).into()),
        // A source ffprobe cannot finish within a minute is the file's doing.
        Err(error @ ProcessError::TimedOut { .. }) => Err(Rejection::Unreadable(told(&error.to_string())).into()),
        Err(error @ (ProcessError::Spawn { .. } | ProcessError::Io { .. })) => Err(ProbeError::NotRun(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_what_ffprobe_says_are_not_passed_on() {
        let said = "Connection to tcp://minio.internal:9000 failed\nhttp://h/b/k?X-Amz-Signature=ab: Invalid data";
        let told = without_urls(said);
        assert!(!told.contains("minio.internal") && !told.contains("X-Amz"), "{told}");
        assert!(told.contains("Invalid data"), "{told}");
    }

    #[tokio::test]
    async fn a_file_ffprobe_cannot_read_is_rejected_as_unreadable() {
        let path = std::env::temp_dir().join(format!("ottr-probe-{}.mp4", std::process::id()));
        std::fs::write(&path, b"not a video at all").unwrap();
        let limits = Limits { max_duration_secs: 60, max_pixels: 1 << 20, max_streams: 4 };
        let verdict = probe(&path, limits).await;
        let _ = std::fs::remove_file(&path);
        assert!(matches!(verdict, Err(ProbeError::Rejected(_))), "{verdict:?}");
    }
}
