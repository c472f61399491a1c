//! Sending a file's bytes: PATCH after PATCH from the offset the edge holds, until the
//! edge answers with the asset. When a connection drops or the edge answers 5xx, the
//! edge is asked (HEAD) how much it kept and the upload goes on from there after a
//! growing pause; a run of failures without progress ends it, resumable later.

use std::time::Duration;

use anyhow::bail;
use indicatif::ProgressBar;
use reqwest::{StatusCode, Url};

use super::{
    api::ApiError,
    state::Source,
    tus::{Appended, Finished, Gone, TusClient},
};

/// Failures in a row, without the edge gaining a byte, before giving up.
const MAX_FAILURES: u32 = 8;
/// Answers of "another PATCH is still writing" in a row: the edge is busy with our own
/// earlier request (a dropped connection's, or handing a large file to media).
const MAX_BUSY: u32 = 900;
const BUSY_PAUSE: Duration = Duration::from_secs(2);

/// How to send.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    /// Bytes per PATCH.
    pub chunk: u64,
    /// Stop (as Ctrl-C would) after this many PATCHes: the tests' way to interrupt a run
    /// at a known point.
    pub stop_after: Option<u64>,
}

/// How sending ended.
pub(crate) enum Sent {
    Finished(Finished),
    /// `Plan::stop_after` was reached with the edge holding `offset` bytes.
    Stopped {
        offset: u64,
    },
}

/// Failures since the edge last gained bytes, and the pause before the next try.
struct Retry {
    failures: u32,
    busy: u32,
    /// The most the edge has been seen to hold.
    best: u64,
}

impl Retry {
    fn progress(&mut self, offset: u64) {
        if offset > self.best {
            self.best = offset;
            self.failures = 0;
        }
        self.busy = 0;
    }

    /// Waits before the next try, or gives `error` back once there were too many.
    async fn after(&mut self, error: anyhow::Error, bar: &ProgressBar) -> anyhow::Result<()> {
        self.failures += 1;
        if self.failures > MAX_FAILURES {
            return Err(error.context(format!(
                "giving up after {MAX_FAILURES} failed tries; run the same command again to resume"
            )));
        }
        let pause = Duration::from_millis(500 * (1 << (self.failures - 1).min(6))).min(Duration::from_secs(30));
        bar.suspend(|| eprintln!("{error:#}; retrying in {pause:.1?} ({}/{MAX_FAILURES})", self.failures));
        tokio::time::sleep(pause).await;
        Ok(())
    }

    async fn busy(&mut self) -> anyhow::Result<()> {
        self.busy += 1;
        if self.busy > MAX_BUSY {
            bail!("the edge stayed busy with this upload; run the same command again to resume");
        }
        tokio::time::sleep(BUSY_PAUSE).await;
        Ok(())
    }
}

/// Whether trying again may help: the connection failed, or the edge (or a proxy before
/// it) answered 5xx, 408 or 429.
pub(crate) fn transient(error: &anyhow::Error) -> bool {
    if error.downcast_ref::<reqwest::Error>().is_some() {
        return true;
    }
    error.downcast_ref::<ApiError>().is_some_and(|e| {
        e.status.is_server_error() || matches!(e.status, StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS)
    })
}

/// Whether, after `error`, the edge has deleted the upload, so remembering it is useless:
/// it is gone, or the edge refused it for good (media's verdict on a complete file, a
/// size over the limit). Not after being signed out or refused permission: another
/// account may resume it.
pub(crate) fn upload_lost(error: &anyhow::Error) -> bool {
    if error.downcast_ref::<Gone>().is_some() {
        return true;
    }
    error.downcast_ref::<ApiError>().is_some_and(|e| {
        e.status.is_client_error()
            && !matches!(
                e.status,
                StatusCode::UNAUTHORIZED
                    | StatusCode::FORBIDDEN
                    | StatusCode::REQUEST_TIMEOUT
                    | StatusCode::TOO_MANY_REQUESTS
            )
    })
}

/// Sends `source` from `start` (what the edge holds) to the end.
pub(crate) async fn send_all(
    tus: &TusClient<'_>,
    source: &Source,
    url: &Url,
    start: u64,
    plan: Plan,
    bar: &ProgressBar,
) -> anyhow::Result<Sent> {
    let mut retry = Retry { failures: 0, busy: 0, best: start };
    let mut known = Some(start);
    let mut patches = 0;
    loop {
        let offset = match known.take() {
            Some(offset) => offset,
            None => match tus.offset(url).await {
                Ok(Some(offset)) => offset,
                Ok(None) => return Err(Gone.into()),
                Err(error) if transient(&error) => {
                    retry.after(error, bar).await?;
                    continue;
                }
                Err(error) => return Err(error),
            },
        };
        retry.progress(offset);
        bar.set_position(offset);
        if offset >= source.length {
            match tus.finished(url).await {
                Ok(Some(finished)) => return Ok(Sent::Finished(finished)),
                // Still being handed to media, or never was (an edge restarted meanwhile):
                // the empty PATCH below asks for it, or is told the edge is busy with it.
                Ok(None) => {}
                Err(error) if transient(&error) => {
                    retry.after(error, bar).await?;
                    continue;
                }
                Err(error) => return Err(error),
            }
        }
        if plan.stop_after == Some(patches) {
            return Ok(Sent::Stopped { offset });
        }
        let length = plan.chunk.min(source.length.saturating_sub(offset));
        let shown = bar.clone();
        match tus.append(url, &source.path, offset, length, move |n| shown.inc(n)).await {
            Ok(Appended::Accepted { finished: Some(finished), .. }) => return Ok(Sent::Finished(finished)),
            Ok(Appended::Accepted { offset, finished: None }) => known = Some(offset),
            Ok(Appended::Mismatch) => {
                retry.after(anyhow::anyhow!("the edge holds another offset than {offset}"), bar).await?;
            }
            Ok(Appended::Busy) => retry.busy().await?,
            Err(error) if transient(&error) => retry.after(error, bar).await?,
            Err(error) => return Err(error),
        }
        patches += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16) -> anyhow::Error {
        let status = StatusCode::from_u16(status).unwrap();
        ApiError { status, code: "x".into(), message: "y".into() }.into()
    }

    #[test]
    fn server_errors_are_retried_and_refusals_of_the_file_forget_the_upload() {
        for status in [500, 502, 503, 504, 408, 429] {
            assert!(transient(&refusal(status)), "{status}");
            assert!(!upload_lost(&refusal(status)), "{status}");
        }
        for status in [400, 404, 413, 415, 422] {
            assert!(!transient(&refusal(status)), "{status}");
            assert!(upload_lost(&refusal(status)), "{status}");
        }
        for status in [401, 403] {
            assert!(!transient(&refusal(status)) && !upload_lost(&refusal(status)), "{status}");
        }
        assert!(upload_lost(&anyhow::Error::new(Gone).context("sending")));
        assert!(!transient(&anyhow::anyhow!("opening the file")));
    }
}
