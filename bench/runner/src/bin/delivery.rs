//! `bench/delivery`: wrk against the edge serving a hot 1080p segment through a signed
//! URL, and against nginx serving the same file from disk, with the same connections and
//! duration in the same run. Writes `bench/results/delivery.json`.

use std::{path::Path, process::Stdio, time::Duration};

use ottr_bench::{
    chart::{self, Panel},
    env_or, machine, machine_caption, results_path, version_of,
};
use ottr_edge::{EdgeSettings, hls::token::Signer};
use ottr_media::{
    probe,
    transcode::{command::Ladder, ladder},
};
use ottr_runtime::config::ListenSettings;
use ottr_storage::{LocalStore, ObjectStore};
use ottr_testkit::Clip;

const SECRET: &str = "bench-delivery-secret";

/// What wrk reported.
struct Wrk {
    rps: f64,
    mib_s: f64,
    p99_ms: f64,
    errors: u64,
}

fn unit_ms(text: &str) -> f64 {
    let number: f64 = text.trim_end_matches(|c: char| c.is_alphabetic()).parse().unwrap_or(f64::NAN);
    match text.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.') {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => f64::NAN,
    }
}

fn unit_mib(text: &str) -> f64 {
    let number: f64 = text.trim_end_matches(|c: char| c.is_alphabetic()).parse().unwrap_or(f64::NAN);
    match text.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.') {
        "B" => number / 1048576.0,
        "KB" => number / 1024.0,
        "MB" => number,
        "GB" => number * 1024.0,
        _ => f64::NAN,
    }
}

fn wrk(url: &str, connections: u32, seconds: u32) -> anyhow::Result<Wrk> {
    let out = std::process::Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency", url])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(out.status.success(), "wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    let field = |prefix: &str| text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_owned()));
    let socket_errors: u64 = field("Socket errors:")
        .map(|l| l.split(',').filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    let non_2xx: u64 = field("Non-2xx or 3xx responses:").and_then(|n| n.parse().ok()).unwrap_or(0);
    Ok(Wrk {
        rps: field("Requests/sec:").and_then(|v| v.parse().ok()).unwrap_or(0.0),
        mib_s: field("Transfer/sec:").map(|v| unit_mib(&v)).unwrap_or(0.0),
        p99_ms: field("99%").map(|v| unit_ms(&v)).unwrap_or(f64::NAN),
        errors: socket_errors + non_2xx,
    })
}

/// Starts nginx serving `root` on `port`; the child dies with the benchmark.
fn nginx(scratch: &Path, root: &Path, port: u16) -> anyhow::Result<std::process::Child> {
    let conf = scratch.join("nginx.conf");
    let temp = scratch.join("nginx-temp");
    std::fs::create_dir_all(&temp)?;
    std::fs::write(
        &conf,
        format!(
            "worker_processes 2; pid {dir}/nginx.pid; error_log {dir}/nginx-error.log;\n\
             events {{ worker_connections 4096; }}\n\
             http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;\n\
               client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};\n\
               types {{ video/iso.segment m4s; application/vnd.apple.mpegurl m3u8; video/mp4 mp4; }}\n\
               server {{ listen 127.0.0.1:{port}; root {root};\n\
                 location / {{ add_header Cache-Control \"public, max-age=31536000, immutable\"; }} }} }}\n",
            dir = scratch.display(),
            tmp = temp.display(),
            root = root.display(),
        ),
    )?;
    let child = std::process::Command::new("nginx")
        .args(["-c", &conf.to_string_lossy(), "-g", "daemon off;"])
        .stdout(Stdio::null())
        .spawn()?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(child);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("nginx did not start")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u32 = env_or("BENCH_SECONDS", 10);
    let connections: u32 = env_or("BENCH_CONNECTIONS", 64);
    let scratch = std::env::temp_dir().join(format!("ottr-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&scratch)?;
    let result = run(&scratch, seconds, connections).await;
    let _ = std::fs::remove_dir_all(&scratch);
    let report = result?;
    let path = results_path("delivery.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    eprintln!("wrote {}", path.canonicalize()?.display());
    Ok(())
}

async fn run(scratch: &Path, seconds: u32, connections: u32) -> anyhow::Result<serde_json::Value> {
    // A 1080p ladder written where the edge's local store and nginx both read it.
    let objects = scratch.join("objects");
    let asset = uuid::Uuid::new_v4();
    let out = objects.join(format!("hls/{asset}/1"));
    let source = scratch.join("source.mp4");
    Clip::testsrc("1920x1080", 30, 12).with_audio(true).preset("veryfast").args(["-b:v", "8M"]).make(&source)?;
    let rungs = vec![ladder::plan(1920, 1080).remove(0)];
    std::fs::create_dir_all(out.join(&rungs[0].name))?;
    let args = Ladder {
        source: &source,
        out_dir: &out,
        rungs: &rungs,
        frame_rate: 30.0,
        has_audio: true,
        preset: "veryfast",
        guards: probe::input_guards(4096 * 2160),
        storyboard: None,
    }
    .args();
    anyhow::ensure!(
        std::process::Command::new("ffmpeg").args(&args).stdout(Stdio::null()).status()?.success(),
        "the ladder failed"
    );
    let segment = format!("hls/{asset}/1/1080p/seg_00001.m4s");
    let segment_bytes = std::fs::metadata(objects.join(&segment))?.len();

    let mut settings = EdgeSettings { listen: ListenSettings::new("127.0.0.1", 0), ..Default::default() };
    settings.playback.secret = SECRET.to_owned().into();
    let edge = ottr_edge::Application::build(&settings, ObjectStore::Local(LocalStore::new(&objects))).await?;
    let edge_port = edge.port();
    tokio::spawn(edge.run_until_stopped(std::future::pending()));
    let token = Signer::new(SECRET.as_bytes()).sign(asset, i64::MAX / 2);
    let edge_url = format!("http://127.0.0.1:{edge_port}/hls/{token}/1/1080p/seg_00001.m4s");
    let nginx_port = free_port()?;
    let mut nginx = nginx(scratch, &objects, nginx_port)?;
    let nginx_url = format!("http://127.0.0.1:{nginx_port}/{segment}");

    // wrk blocks; run it off the runtime that serves the edge.
    eprintln!("wrk: {connections} connections, {seconds} s each, one hot {segment_bytes}-byte 1080p segment");
    let (e, n) = (edge_url.clone(), nginx_url.clone());
    let edge_run = tokio::task::spawn_blocking(move || wrk(&e, connections, seconds)).await??;
    let nginx_run = tokio::task::spawn_blocking(move || wrk(&n, connections, seconds)).await??;
    let _ = nginx.kill();
    let _ = nginx.wait();

    println!("{:<10} {:>12} {:>12} {:>10} {:>8}", "server", "req/s", "MiB/s", "p99 ms", "errors");
    for (name, run) in [("edge", &edge_run), ("nginx", &nginx_run)] {
        println!("{name:<10} {:>12.0} {:>12.1} {:>10.2} {:>8}", run.rps, run.mib_s, run.p99_ms, run.errors);
    }
    println!("edge / nginx: {:.3} of the requests per second", edge_run.rps / nginx_run.rps);
    let svg = chart::bar_chart(
        &format!("HLS delivery: one hot {segment_bytes}-byte segment, wrk {connections} connections, {seconds} s"),
        &machine_caption(),
        &[
            Panel { title: "throughput", unit: "req/s", bars: vec![("edge", edge_run.rps), ("nginx", nginx_run.rps)] },
            Panel {
                title: "p99 latency",
                unit: "ms",
                bars: vec![("edge", edge_run.p99_ms), ("nginx", nginx_run.p99_ms)],
            },
        ],
    );
    eprintln!("wrote {}", chart::write("delivery", &svg)?.display());
    Ok(serde_json::json!({
        "segment_bytes": segment_bytes,
        "connections": connections,
        "seconds": seconds,
        "edge_rps": edge_run.rps,
        "nginx_rps": nginx_run.rps,
        "edge_mib_s": edge_run.mib_s,
        "nginx_mib_s": nginx_run.mib_s,
        "edge_p99_ms": edge_run.p99_ms,
        "nginx_p99_ms": nginx_run.p99_ms,
        "edge_over_nginx_rps": edge_run.rps / nginx_run.rps,
        "errors": edge_run.errors + nginx_run.errors,
        "machine": machine(),
        "versions": { "ottr": env!("CARGO_PKG_VERSION"), "nginx": version_of("nginx", &["-v"]), "wrk": version_of("wrk", &["-v"]) },
    }))
}
