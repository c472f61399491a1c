//! ottr's services, and the S3 test server, as real processes of their own: the upload
//! benchmark measures each one's peak memory, which needs them out of the bench's own.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail};

/// A binary next to the running benchmark (the same `target/<profile>` folder).
pub fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.parent().context("the benchmark has no folder")?.join(name);
    if !path.is_file() {
        bail!("{} is not built; the bench script builds it", path.display());
    }
    Ok(path)
}

/// A child process that printed "<name> listening on host:port"; killed when dropped.
pub struct Service {
    child: Child,
    pub port: u16,
}

impl Service {
    /// Starts `program args…` with `env` and waits for its "listening on" line (in its
    /// stdout or, for ottr's log lines, in `log`).
    pub fn start(
        name: &str,
        program: &Path,
        args: &[&str],
        env: &[(String, String)],
        log: &Path,
    ) -> anyhow::Result<Self> {
        let log_file = std::fs::File::create(log)?;
        let child = Command::new(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let mut service = Self { child, port: 0 };
        let marker = format!("{name} listening on ");
        for _ in 0..300 {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if let Some(port) = text
                .lines()
                .find_map(|line| line.split_once(&marker).map(|(_, rest)| rest.to_owned()))
                .and_then(|rest| rest.split_whitespace().next()?.rsplit(':').next()?.parse().ok())
            {
                service.port = port;
                return Ok(service);
            }
            if service.child.try_wait()?.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let lines: Vec<String> = BufReader::new(std::fs::File::open(log)?).lines().map_while(Result::ok).collect();
        bail!("{name} did not start:\n{}", lines.join("\n"))
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
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
