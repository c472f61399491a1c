//! The one way ottr runs an external program (ffmpeg, ffprobe): no shell, killed when
//! dropped or when its time is up, stderr drained into a bounded tail that travels with
//! the error, so a failure explains itself without unbounded memory.

use std::{process::Stdio, time::Duration};

use tokio::{
    io::{AsyncRead, AsyncReadExt},
    process::{Child, Command},
    task::JoinHandle,
};

/// How much of stderr is kept: the end, where ffmpeg says what went wrong.
pub const STDERR_TAIL_BYTES: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("{program} ran longer than {limit:?} and was killed; stderr ends: {stderr_tail}")]
    TimedOut { program: String, limit: Duration, stderr_tail: String },
    #[error("{program} failed ({status}); stderr ends: {stderr_tail}")]
    Failed { program: String, status: String, stderr_tail: String },
    #[error("reading {program}'s output: {source}")]
    Io { program: String, source: std::io::Error },
}

impl ProcessError {
    pub fn stderr_tail(&self) -> &str {
        match self {
            ProcessError::TimedOut { stderr_tail, .. } | ProcessError::Failed { stderr_tail, .. } => stderr_tail,
            _ => "",
        }
    }
}

/// How much of stderr [`run_logged`] keeps: enough for a report ffmpeg prints at its end.
pub const LOG_TAIL_BYTES: usize = 64 * 1024;

/// Reads a stream to its end, keeping only its last [`STDERR_TAIL_BYTES`].
pub fn drain_tail(stream: impl AsyncRead + Unpin + Send + 'static) -> JoinHandle<String> {
    drain_last(stream, STDERR_TAIL_BYTES)
}

/// Reads a stream to its end, keeping only its last `keep` bytes.
fn drain_last(mut stream: impl AsyncRead + Unpin + Send + 'static, keep: usize) -> JoinHandle<String> {
    tokio::spawn(async move {
        let mut tail: Vec<u8> = Vec::with_capacity(keep * 2);
        let mut chunk = [0u8; 4096];
        while let Ok(n) = stream.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            tail.extend_from_slice(&chunk[..n]);
            if tail.len() > keep * 2 {
                tail.drain(..tail.len() - keep);
            }
        }
        let start = tail.len().saturating_sub(keep);
        String::from_utf8_lossy(&tail[start..]).trim().to_owned()
    })
}

/// Starts `program` with piped stdout and stderr; the child dies with its handle.
pub fn spawn(program: &str, args: &[String]) -> Result<Child, ProcessError> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| ProcessError::Spawn { program: program.to_owned(), source })
}

/// Runs `program` to completion within `limit`; returns its stdout.
pub async fn run(program: &str, args: &[String], limit: Duration) -> Result<Vec<u8>, ProcessError> {
    Ok(run_keeping(program, args, limit, STDERR_TAIL_BYTES).await?.0)
}

/// Runs `program` like [`run`], for what it reports on stderr: returns the last
/// [`LOG_TAIL_BYTES`] of it (ffmpeg's scanners print their summaries there).
pub async fn run_logged(program: &str, args: &[String], limit: Duration) -> Result<String, ProcessError> {
    Ok(run_keeping(program, args, limit, LOG_TAIL_BYTES).await?.1)
}

async fn run_keeping(
    program: &str,
    args: &[String],
    limit: Duration,
    keep: usize,
) -> Result<(Vec<u8>, String), ProcessError> {
    let mut child = spawn(program, args)?;
    let stderr = drain_last(child.stderr.take().expect("stderr is piped"), keep);
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let work = async {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).await?;
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((out, status))
    };
    match tokio::time::timeout(limit, work).await {
        Err(_) => {
            let _ = child.kill().await;
            let stderr_tail = stderr.await.unwrap_or_default();
            Err(ProcessError::TimedOut { program: program.to_owned(), limit, stderr_tail })
        }
        Ok(Err(source)) => Err(ProcessError::Io { program: program.to_owned(), source }),
        Ok(Ok((out, status))) if status.success() => Ok((out, stderr.await.unwrap_or_default())),
        Ok(Ok((_, status))) => {
            let log = stderr.await.unwrap_or_default();
            // A failure carries the usual tail, whatever was kept.
            let mut cut = log.len().saturating_sub(STDERR_TAIL_BYTES);
            while !log.is_char_boundary(cut) {
                cut += 1;
            }
            let stderr_tail = log[cut..].to_owned();
            Err(ProcessError::Failed { program: program.to_owned(), status: status.to_string(), stderr_tail })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failure_carries_the_end_of_stderr() {
        let args = vec!["-c".into(), "head -c 10000 /dev/zero | tr '\\0' x >&2; echo last words >&2; exit 3".into()];
        let error = run("sh", &args, Duration::from_secs(10)).await.unwrap_err();
        let tail = error.stderr_tail();
        assert!(tail.ends_with("last words"), "{tail}");
        assert!(tail.len() <= STDERR_TAIL_BYTES);
        assert!(matches!(error, ProcessError::Failed { .. }));
    }

    #[tokio::test]
    async fn a_logged_run_returns_what_it_printed_on_stderr() {
        let args = vec!["-c".into(), "echo report >&2; echo out".into()];
        assert_eq!(run_logged("sh", &args, Duration::from_secs(10)).await.unwrap(), "report");
    }

    #[tokio::test]
    async fn a_program_past_its_limit_is_killed() {
        let error = run("sleep", &["30".into()], Duration::from_millis(200)).await.unwrap_err();
        assert!(matches!(error, ProcessError::TimedOut { .. }), "{error}");
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_error() {
        let error = run("ottr-no-such-program", &[], Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(error, ProcessError::Spawn { .. }));
    }
}
