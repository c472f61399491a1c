//! Shared pieces of ottr's benchmarks: an open-loop load generator at a fixed rate,
//! latency percentiles, interleaved rounds with median ratios, and a description of the
//! machine for the result files.

pub mod best_case;
pub mod chart;
pub mod rounds;
pub mod scatter;
pub mod seed;

use std::{future::Future, time::Duration};

use tokio::time::{Instant, MissedTickBehavior};

/// Latencies of one run, in milliseconds, and how many calls failed.
#[derive(Debug, Default)]
pub struct Run {
    pub latencies_ms: Vec<f64>,
    pub errors: u64,
}

impl Run {
    /// The `p`-th percentile (0–100), nearest rank.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.latencies_ms.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
        sorted[rank.min(sorted.len()) - 1]
    }
}

/// Starts `call(i)` every `1/rate` seconds for `duration`, whether or not earlier calls
/// have finished (open loop), and measures each from the moment it was due, so a stall
/// shows up as latency instead of hiding as fewer requests (coordinated omission).
pub async fn fixed_rate<F, Fut>(rate: u32, duration: Duration, call: F) -> Run
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let total = (duration.as_secs_f64() * f64::from(rate)) as u64;
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let start = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for i in 0..total {
        ticks.tick().await;
        let due = start + period.mul_f64(i as f64);
        let call = call(i);
        running.spawn(async move {
            let ok = call.await;
            (ok, due.elapsed())
        });
    }
    let mut run = Run::default();
    while let Some(done) = running.join_next().await {
        match done {
            Ok((true, took)) => run.latencies_ms.push(took.as_secs_f64() * 1000.0),
            _ => run.errors += 1,
        }
    }
    run
}

/// A database of the benchmark's own, created and migrated, dropped by [`Scratch::drop`].
pub struct ScratchDatabase {
    admin_url: String,
    pub name: String,
    pub settings: ottr_runtime::config::DatabaseSettings,
}

impl ScratchDatabase {
    pub async fn create() -> anyhow::Result<Self> {
        let admin_url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".to_owned());
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b).to_owned();
        let name = format!("ottr_bench_{}", uuid::Uuid::new_v4().simple());
        let settings =
            ottr_runtime::config::DatabaseSettings { url: format!("{base}/{name}").into(), ..Default::default() };
        ottr_runtime::db::migrate(&settings).await?;
        Ok(Self { admin_url, name, settings })
    }

    pub async fn drop(self) {
        use sqlx::Connection;
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin_url).await {
            let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut conn).await;
        }
    }
}

/// The first line a program prints for `args` (on stdout, or stderr as nginx does), or "unknown".
pub fn version_of(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| if o.stdout.is_empty() { o.stderr } else { o.stdout })
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.lines().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// A setting from the environment, or `default` when unset or unreadable.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Where result files go.
pub fn results_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../results").join(name)
}

/// Writes `report` as the result file `name` (pretty JSON) and says where.
pub fn write_results(name: &str, report: &serde_json::Value) -> anyhow::Result<()> {
    let path = results_path(name);
    std::fs::write(&path, serde_json::to_string_pretty(report)? + "\n")?;
    eprintln!("wrote {}", path.canonicalize()?.display());
    Ok(())
}

/// Writes `report`'s keys into the result file `name`, keeping the keys it does not have, so
/// a run of some phases leaves the figures of the others in place.
pub fn merge_results(name: &str, report: serde_json::Map<String, serde_json::Value>) -> anyhow::Result<()> {
    let before = std::fs::read_to_string(results_path(name)).ok();
    let mut merged: serde_json::Map<String, serde_json::Value> =
        before.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default();
    merged.extend(report);
    write_results(name, &serde_json::Value::Object(merged))
}

/// Cores, memory and CPU model, for the result files.
pub fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split(':').nth(1)))
        .map(str::trim)
        .unwrap_or("unknown");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    serde_json::json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_gib": (mem_kib as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "cpu_model": model,
    })
}

/// The machine in one line, for chart captions.
pub fn machine_caption() -> String {
    let m = machine();
    format!("{} cores, {} GiB, {}", m["cores"], m["memory_gib"], m["cpu_model"].as_str().unwrap_or("unknown"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let run = Run { latencies_ms: (1..=100).map(f64::from).collect(), errors: 0 };
        assert_eq!(run.percentile(50.0), 50.0);
        assert_eq!(run.percentile(99.0), 99.0);
        assert_eq!(run.percentile(100.0), 100.0);
        assert!(Run::default().percentile(50.0).is_nan());
    }
}
