//! `bench/delivery`: wrk against the edge serving a hot 1080p segment through a signed
//! URL, and against nginx serving the same file from disk, with the same connections and
//! duration in the same run, taking turns for `--runs N` rounds (3): medians, with each
//! ratio's range. Writes `bench/results/delivery.json`.

use std::{path::Path, process::Stdio, time::Duration};

use ottr_bench::{
    chart::{self, Panel},
    env_or, machine, machine_caption,
    rounds::{self, Spread},
    version_of, write_results,
};
use ottr_edge::{EdgeSettings, hls::token::Signer};
use ottr_media::{
    MediaSettings,
    transcode::{command::Ladder, ladder, picture::Picture, rate::Encoder},
};
use ottr_runtime::{
    config::{ListenSettings, RedisSettings, TokenSettings},
    redis::Redis,
    token::{Revocations, TokenVerifier},
};
use ottr_storage::{LocalStore, ObjectStore};
use ottr_testkit::Clip;

const SECRET: &str = "bench-delivery-secret-at-least-32-bytes-long";

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
    write_results("delivery.json", &report)?;
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
        picture: Picture::default(),
        // The nominal rate, so the hot segment is a 5 Mb/s one whatever the quality target.
        encoder: &Encoder { crf: 0.0, ..MediaSettings::default().video },
        opening_segments: false,
        max_pixels: 4096 * 2160,
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
    // Delivery needs no sign-in; the verifier connects to auth lazily, so none has to run.
    let revocations = Revocations::new(Redis::connect(&RedisSettings::default())?);
    let verifier = std::sync::Arc::new(TokenVerifier::from_settings(&TokenSettings::default(), revocations)?);
    let deps = ottr_edge::Dependencies { store: ObjectStore::Local(LocalStore::new(&objects)), verifier };
    let edge = ottr_edge::Application::build(&settings, deps).await?;
    let edge_port = edge.port();
    tokio::spawn(edge.run_until_stopped(std::future::pending()));
    let token = Signer::new(SECRET.as_bytes()).sign(asset, i64::MAX / 2);
    let edge_url = format!("http://127.0.0.1:{edge_port}/hls/{token}/1/1080p/seg_00001.m4s");
    let nginx_port = free_port()?;
    let mut nginx = nginx(scratch, &objects, nginx_port)?;
    let nginx_url = format!("http://127.0.0.1:{nginx_port}/{segment}");

    // wrk blocks; run it off the runtime that serves the edge. Edge and nginx take turns.
    let runs = rounds::runs();
    eprintln!(
        "wrk: {connections} connections, {seconds} s each, one hot {segment_bytes}-byte 1080p segment, {runs} rounds"
    );
    let (mut edge_runs, mut nginx_runs) = (Vec::new(), Vec::new());
    for round in 1..=runs {
        eprintln!("round {round}/{runs}: edge, then nginx");
        let (e, n) = (edge_url.clone(), nginx_url.clone());
        edge_runs.push(tokio::task::spawn_blocking(move || wrk(&e, connections, seconds)).await??);
        nginx_runs.push(tokio::task::spawn_blocking(move || wrk(&n, connections, seconds)).await??);
    }
    let _ = nginx.kill();
    let _ = nginx.wait();

    let spread = |runs: &[Wrk], figure: fn(&Wrk) -> f64| Spread::of(&runs.iter().map(figure).collect::<Vec<_>>());
    let column = |runs: &[Wrk], figure: fn(&Wrk) -> f64| runs.iter().map(figure).collect::<Vec<_>>();
    let (edge_rps, nginx_rps) = (spread(&edge_runs, |r| r.rps), spread(&nginx_runs, |r| r.rps));
    let (edge_mib_s, nginx_mib_s) = (spread(&edge_runs, |r| r.mib_s), spread(&nginx_runs, |r| r.mib_s));
    let (edge_p99, nginx_p99) = (spread(&edge_runs, |r| r.p99_ms), spread(&nginx_runs, |r| r.p99_ms));
    let ratio = Spread::ratio(&column(&edge_runs, |r| r.rps), &column(&nginx_runs, |r| r.rps));
    let errors: u64 = edge_runs.iter().chain(&nginx_runs).map(|r| r.errors).sum();

    println!("median of {runs} rounds (min–max)");
    println!("{:<10} {:>26} {:>22} {:>22}", "server", "req/s", "MiB/s", "p99 ms");
    for (name, rps, mib_s, p99) in
        [("edge", edge_rps, edge_mib_s, edge_p99), ("nginx", nginx_rps, nginx_mib_s, nginx_p99)]
    {
        println!("{name:<10} {:>26} {:>22} {:>22}", format!("{rps:.0}"), format!("{mib_s:.1}"), format!("{p99:.2}"));
    }
    println!("edge / nginx requests per second: {ratio:.3}; errors {errors}");
    let svg = chart::bar_chart(
        &format!(
            "HLS delivery: one hot {segment_bytes}-byte segment, wrk {connections} connections, {seconds} s, median of {runs}"
        ),
        &machine_caption(),
        &[
            Panel {
                title: "throughput",
                unit: "req/s",
                bars: vec![("edge", edge_rps.median), ("nginx", nginx_rps.median)],
            },
            Panel {
                title: "p99 latency",
                unit: "ms",
                bars: vec![("edge", edge_p99.median), ("nginx", nginx_p99.median)],
            },
        ],
    );
    chart::write("delivery", &svg)?;
    Ok(serde_json::json!({
        "segment_bytes": segment_bytes,
        "connections": connections,
        "seconds": seconds,
        "runs": runs,
        "order": "ABAB: edge, nginx, edge, nginx, …; figures are medians over the rounds",
        "edge_rps": edge_rps.median,
        "nginx_rps": nginx_rps.median,
        "edge_mib_s": edge_mib_s.median,
        "nginx_mib_s": nginx_mib_s.median,
        "edge_p99_ms": edge_p99.median,
        "nginx_p99_ms": nginx_p99.median,
        "edge_over_nginx_rps": ratio.median,
        "edge_over_nginx_rps_range": [ratio.min, ratio.max],
        "rounds": {
            "edge_rps": column(&edge_runs, |r| r.rps),
            "nginx_rps": column(&nginx_runs, |r| r.rps),
            "edge_p99_ms": column(&edge_runs, |r| r.p99_ms),
            "nginx_p99_ms": column(&nginx_runs, |r| r.p99_ms),
        },
        "errors": errors,
        "machine": machine(),
        "versions": { "ottr": env!("CARGO_PKG_VERSION"), "nginx": version_of("nginx", &["-v"]), "wrk": version_of("wrk", &["-v"]) },
    }))
}
