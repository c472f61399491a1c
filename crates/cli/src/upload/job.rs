//! Following a transcode to its end through the edge's Server-Sent Events
//! (`GET /api/v1/jobs/{id}/events`): each `progress` event moves the bar; `ready` ends
//! well, `failed` and `cancelled` end in an error carrying the job's code and message.
//! A stream that ends early (an edge stopping, a dropped link) is opened again: the edge
//! starts every stream with the job's current state, so nothing is missed.

use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::ProgressBar;
use reqwest::header;
use serde::Deserialize;

use super::{
    api::{Session, success},
    progress::show_transcode,
    sse,
    transfer::transient,
};

/// Streams opened again in a row without an event before giving up.
const MAX_RECONNECTS: u32 = 8;

/// One `progress` event, as far as the command shows it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JobEvent {
    /// queued, probing, transcoding, uploading, finalizing, ready, failed, cancelled.
    phase: String,
    percent: f64,
    speed: f64,
    eta_secs: f64,
    attempt: u32,
    error_code: String,
    error_message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorEvent {
    code: String,
    message: String,
}

/// How a job ended.
enum End {
    Ready,
    Failed { code: String, message: String },
    Cancelled,
}

/// Follows job `job_id` until it ends; an error when it did not end ready.
pub(crate) async fn follow(session: &Session, job_id: &str, bar: &ProgressBar) -> anyhow::Result<()> {
    let mut reconnects = 0;
    loop {
        let seen = match watch(session, job_id, bar).await {
            Ok((Some(end), _)) => return finish(end, bar),
            Ok((None, seen)) => seen,
            Err(error) if transient(&error) && reconnects < MAX_RECONNECTS => false,
            Err(error) => return Err(error).context("following the transcode"),
        };
        reconnects = if seen { 0 } else { reconnects + 1 };
        if reconnects > MAX_RECONNECTS {
            bail!("the edge kept closing the progress stream; the transcode goes on (the studio shows it)");
        }
        tokio::time::sleep(Duration::from_millis(500 * u64::from(reconnects.max(1)))).await;
    }
}

fn finish(end: End, bar: &ProgressBar) -> anyhow::Result<()> {
    match end {
        End::Ready => {
            bar.finish_with_message("ready");
            Ok(())
        }
        End::Failed { code, message } => {
            bar.abandon_with_message("failed");
            bail!("the transcode failed: {message} ({code})")
        }
        End::Cancelled => {
            bar.abandon_with_message("cancelled");
            bail!("the transcode was cancelled")
        }
    }
}

/// One stream: its end if it showed one, and whether any event came.
async fn watch(session: &Session, job_id: &str, bar: &ProgressBar) -> anyhow::Result<(Option<End>, bool)> {
    let url = session.edge().url(&format!("api/v1/jobs/{job_id}/events"))?;
    let response = session.send(|http| Ok(http.get(url.clone()).header(header::ACCEPT, "text/event-stream"))).await?;
    let mut response = success(response).await?;
    let mut reader = sse::Reader::default();
    let mut seen = false;
    while let Some(chunk) = response.chunk().await? {
        for event in reader.push(&chunk) {
            seen = true;
            if let Some(end) = handle(&event, bar)? {
                return Ok((Some(end), seen));
            }
        }
    }
    Ok((None, seen))
}

/// Shows one event; the job's end when it is one.
fn handle(event: &sse::Event, bar: &ProgressBar) -> anyhow::Result<Option<End>> {
    match event.name.as_str() {
        "progress" => {
            let job: JobEvent = serde_json::from_str(&event.data).context("reading a progress event")?;
            show_transcode(bar, job.percent, describe(&job));
            Ok(match job.phase.as_str() {
                "ready" => Some(End::Ready),
                "failed" => Some(End::Failed { code: job.error_code, message: job.error_message }),
                "cancelled" => Some(End::Cancelled),
                _ => None,
            })
        }
        "error" => {
            let error: ErrorEvent = serde_json::from_str(&event.data).unwrap_or_default();
            // Media out of reach ends this stream only; the job itself goes on.
            if matches!(error.code.as_str(), "unavailable" | "internal") {
                return Ok(None);
            }
            bail!("the edge could not follow the job: {} ({})", error.message, error.code)
        }
        _ => Ok(None),
    }
}

/// `transcoding, 1.9x, eta 12 s`; `queued, attempt 1 failed: transcode_failed` when a
/// failed attempt is queued to run again.
fn describe(job: &JobEvent) -> String {
    let mut parts = vec![job.phase.clone()];
    if job.speed > 0.0 {
        parts.push(format!("{:.1}x", job.speed));
    }
    if job.eta_secs > 0.0 && job.phase != "ready" {
        parts.push(format!("eta {:.0} s", job.eta_secs));
    }
    if job.phase == "queued" && !job.error_code.is_empty() {
        parts.push(format!("attempt {} failed: {}", job.attempt, job.error_code));
    } else if job.attempt > 1 {
        parts.push(format!("attempt {}", job.attempt));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(json: &str) -> sse::Event {
        sse::Event { name: "progress".into(), data: json.into() }
    }

    #[test]
    fn phases_end_the_job_as_the_edge_names_them() {
        let bar = ProgressBar::hidden();
        assert!(handle(&progress(r#"{"phase":"transcoding","percent":40}"#), &bar).unwrap().is_none());
        assert!(matches!(handle(&progress(r#"{"phase":"ready","percent":100}"#), &bar).unwrap(), Some(End::Ready)));
        let failed = r#"{"phase":"failed","error_code":"transcode_failed","error_message":"ffmpeg exited 1"}"#;
        let Some(end @ End::Failed { .. }) = handle(&progress(failed), &bar).unwrap() else { panic!("not failed") };
        let error = finish(end, &bar).unwrap_err().to_string();
        assert_eq!(error, "the transcode failed: ffmpeg exited 1 (transcode_failed)");
        assert!(matches!(handle(&progress(r#"{"phase":"cancelled"}"#), &bar).unwrap(), Some(End::Cancelled)));
    }

    #[test]
    fn a_refused_stream_is_an_error_and_an_unreachable_media_only_ends_it() {
        let bar = ProgressBar::hidden();
        let error = |json: &str| sse::Event { name: "error".into(), data: json.into() };
        assert!(handle(&error(r#"{"code":"not_found","message":"no such job"}"#), &bar).is_err());
        assert!(handle(&error(r#"{"code":"unavailable","message":"media"}"#), &bar).unwrap().is_none());
    }

    #[test]
    fn the_message_says_the_phase_speed_eta_and_a_failed_attempt() {
        let job = JobEvent { phase: "transcoding".into(), speed: 1.94, eta_secs: 12.4, ..Default::default() };
        assert_eq!(describe(&job), "transcoding, 1.9x, eta 12 s");
        let retry = JobEvent {
            phase: "queued".into(),
            attempt: 1,
            error_code: "transcode_failed".into(),
            ..Default::default()
        };
        assert_eq!(describe(&retry), "queued, attempt 1 failed: transcode_failed");
    }
}
