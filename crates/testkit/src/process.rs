//! Starts a program as a real process of its own and waits until it has bound its
//! listeners, which it says by writing a ready file (`ottr serve|up --ready-file`,
//! `s3-server --ready-file`): JSON naming each service's address and port.
//! Also runs a tool to its end (ffmpeg, ffprobe), its stderr on the error when it fails.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};

/// A binary next to the running executable (the same `target/<profile>` folder, or its
/// parent for a test binary in `deps/`).
pub fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("the executable has no folder")?;
    let candidates = [dir.join(name), dir.parent().map(|d| d.join(name)).unwrap_or_default()];
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .with_context(|| format!("{name} is not built next to {}; build it first", exe.display()))
}

/// Runs `command` (ffmpeg, ffprobe) to `what` and returns what it printed; an error
/// carrying its stderr when it fails, or when the program is not installed.
pub fn run(command: &mut Command, what: std::fmt::Arguments<'_>) -> anyhow::Result<Vec<u8>> {
    let program = command.get_program().to_string_lossy().into_owned();
    let out = command.output().with_context(|| format!("running {program} (scripts/setup.sh installs it)"))?;
    ensure!(out.status.success(), "{program} could not {what}: {}", String::from_utf8_lossy(&out.stderr));
    Ok(out.stdout)
}

/// Writes to a temporary file beside `path` and renames it into place, so a reader sees
/// no file or the whole file, never part of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

/// A started process and what its ready file said; killed when dropped.
pub struct Process {
    child: Child,
    /// The ready file's contents: `{"<service>": {"address": "host:port", "port": n}}`.
    pub ready: serde_json::Value,
}

impl Process {
    /// Runs `program args… --ready-file <log>.ready.json` with `env` added, output to
    /// `log`, and waits up to `timeout` for the ready file.
    pub fn start(
        program: &Path,
        args: &[&str],
        env: &[(String, String)],
        log: &Path,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let ready_file = log.with_extension("ready.json");
        // A file from an earlier run must not be taken for this one's.
        let _ = std::fs::remove_file(&ready_file);
        let log_file = std::fs::File::create(log)?;
        let child = Command::new(program)
            .args(args)
            .arg("--ready-file")
            .arg(&ready_file)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let mut process = Self { child, ready: serde_json::Value::Null };
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(bytes) = std::fs::read(&ready_file) {
                process.ready = serde_json::from_slice(&bytes).context("reading the ready file")?;
                return Ok(process);
            }
            if let Some(status) = process.child.try_wait()? {
                bail!("{} exited ({status}) before it was ready:\n{}", program.display(), tail(log));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("{} was not ready within {timeout:?}:\n{}", program.display(), tail(log))
    }

    /// The port `service` bound, as its ready file says.
    pub fn port(&self, service: &str) -> anyhow::Result<u16> {
        self.ready[service]["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .with_context(|| format!("the ready file names no port for {service}: {}", self.ready))
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// CPU seconds the process has used so far (see [`cpu_seconds`]).
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        cpu_seconds(self.child.id())
    }

    /// The most memory the process has held at once (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|r| r.split_whitespace().next()?.parse().ok())
            .context("no VmHWM in /proc status")?;
        Ok(kib / 1024.0)
    }

    /// Bytes the process has caused to be written to storage so far (`write_bytes` of
    /// `/proc/PID/io`: what reached the block layer, page cache write-back included).
    pub fn written_bytes(&self) -> anyhow::Result<u64> {
        let io = std::fs::read_to_string(format!("/proc/{}/io", self.child.id()))?;
        io.lines()
            .find_map(|l| l.strip_prefix("write_bytes:"))
            .and_then(|r| r.trim().parse().ok())
            .context("no write_bytes in /proc io")
    }
}

/// CPU time (user + system) process `pid` has used so far, in seconds: fields 14 and 15
/// of `/proc/PID/stat`, in the kernel's USER_HZ ticks (100 a second on Linux). Read
/// after the `)` that ends the command name, which may itself hold spaces.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    const TICKS_PER_SECOND: f64 = 100.0;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> =
        stat.rsplit_once(')').context("no command name in /proc stat")?.1.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) sit at 11 and 12.
    let ticks = |i: usize| -> anyhow::Result<f64> { Ok(fields.get(i).context("short /proc stat")?.parse::<f64>()?) };
    Ok((ticks(11)? + ticks(12)?) / TICKS_PER_SECOND)
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a log, for a start that failed.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
