//! `bench/transcode`: the same generated 1080p source through (a) the seed design's four
//! sequential ffmpeg runs, one per rendition, (b) a bare single-process ffmpeg ladder
//! with the same settings, and (c) ottr's whole pipeline, from the source in storage to a
//! verified ready asset. Same preset for all; once on an ordinary source (8 Mb/s) and once
//! on a heavy one (60 Mb/s). Then the time until a 10-minute source is playable, with the
//! bare ladder's time for it extrapolated from the short run (nothing is playable before a
//! bare or seed run ends). Writes `bench/results/transcode.json` and `transcode.svg`.

use std::{path::Path, sync::Arc, time::Instant};

use anyhow::Context;
use ottr_bench::{ScratchDatabase, chart::Panel, env_or, machine, machine_caption, results_path, version_of};
use ottr_media::{
    Dependencies, MediaSettings, probe, queue,
    transcode::{command::Ladder, ladder},
};
use ottr_proto::media::v1::Phase;
use ottr_runtime::{
    config::{ListenSettings, RedisSettings, TokenSettings},
    redis::Redis,
    token::TokenVerifier,
};
use ottr_storage::keys::AssetKeys;
use ottr_testkit::Clip;

fn ffmpeg(args: &[String]) -> anyhow::Result<()> {
    let out = std::process::Command::new("ffmpeg").args(args).output()?;
    anyhow::ensure!(out.status.success(), "ffmpeg failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

/// A 1080p30 source with audio; `bitrate` sets how heavy it is to decode.
fn make_source(path: &Path, seconds: u32, bitrate: &str) -> anyhow::Result<()> {
    Clip::testsrc("1920x1080", 30, seconds)
        .with_audio(true)
        .preset("veryfast")
        .args(["-b:v", bitrate])
        .yuv420p()
        .make(path)?;
    Ok(())
}

fn timed(f: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u32 = env_or("BENCH_SOURCE_SECONDS", 10);
    let long_seconds: u32 = env_or("BENCH_LONG_SOURCE_SECONDS", 600);
    let preset: String = env_or("BENCH_PRESET", "veryfast".to_owned());
    let bitrates: String = env_or("BENCH_SOURCE_BITRATES", "8M,60M".to_owned());
    let scratch = std::env::temp_dir().join(format!("ottr-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&scratch)?;
    let result = async {
        let mut runs = Vec::new();
        for (i, bitrate) in bitrates.split(',').enumerate() {
            runs.push(run(&scratch.join(format!("run-{i}")), seconds, &preset, bitrate).await?);
        }
        let long = first_playable_of_long(&scratch.join("long"), long_seconds, &preset, &runs[0]).await?;
        anyhow::Ok((runs, long))
    }
    .await;
    let _ = std::fs::remove_dir_all(&scratch);
    let (runs, long) = result?;
    let svg = chart(&runs, &long);
    let report = serde_json::json!({
        "runs": runs,
        "long_source": long,
        "machine": machine(),
        "versions": { "ottr": env!("CARGO_PKG_VERSION"), "ffmpeg": version_of("ffmpeg", &["-version"]) },
    });
    let path = results_path("transcode.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    eprintln!("wrote {}", path.canonicalize()?.display());
    eprintln!("wrote {}", ottr_bench::chart::write("transcode", &svg)?.display());
    Ok(())
}

fn chart(runs: &[serde_json::Value], long: &serde_json::Value) -> String {
    let mut panels: Vec<Panel<'_>> = runs
        .iter()
        .map(|run| Panel {
            title: run["label"].as_str().unwrap_or("run"),
            unit: "s",
            bars: vec![
                ("seed", run["seed_s"].as_f64().unwrap_or(f64::NAN)),
                ("bare", run["bare_s"].as_f64().unwrap_or(f64::NAN)),
                ("ottr", run["ottr_s"].as_f64().unwrap_or(f64::NAN)),
                ("ottr playable", run["first_playable_s"].as_f64().unwrap_or(f64::NAN)),
            ],
        })
        .collect();
    panels.push(Panel {
        title: long["label"].as_str().unwrap_or("long source"),
        unit: "s",
        bars: vec![
            ("bare (extrap.)", long["bare_extrapolated_s"].as_f64().unwrap_or(f64::NAN)),
            ("ottr playable", long["first_playable_s"].as_f64().unwrap_or(f64::NAN)),
        ],
    });
    ottr_bench::chart::bar_chart("Transcode: 1080p ladder to HLS, same preset", &machine_caption(), &panels)
}

/// How long ottr takes to make a long source playable; the job is cancelled right after.
async fn first_playable_of_long(
    scratch: &Path,
    seconds: u32,
    preset: &str,
    short: &serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    std::fs::create_dir_all(scratch)?;
    let source = scratch.join("source.mp4");
    eprintln!("making a {seconds} s 1080p source at 8M (this takes a few minutes)");
    make_source(&source, seconds, "8M")?;
    let limits = MediaSettings::default().limits;
    let info = probe::probe(&source, limits.probe_limits()).await.map_err(|r| anyhow::anyhow!("{r}"))?;
    eprintln!("(d) ottr: {seconds} s source in storage → first playable");
    let (_, first_playable_s) = pipeline(scratch, &source, &info, preset, Until::Playable).await?;
    // Nothing of a bare or seed run can be played before it ends; scale the short run's time.
    let short_seconds = short["source_seconds"].as_f64().unwrap_or(f64::NAN);
    let bare_extrapolated_s = short["bare_s"].as_f64().unwrap_or(f64::NAN) * f64::from(seconds) / short_seconds;
    println!(
        "{seconds} s source: first playable after {first_playable_s:.2} s; a bare ladder would take about \
         {bare_extrapolated_s:.0} s before anything plays ({:.0}x sooner)",
        bare_extrapolated_s / first_playable_s
    );
    Ok(serde_json::json!({
        "label": format!("{} min source", seconds / 60),
        "source_seconds": seconds,
        "first_playable_s": first_playable_s,
        "bare_extrapolated_s": bare_extrapolated_s,
        "bare_extrapolated_over_first_playable": bare_extrapolated_s / first_playable_s,
    }))
}

async fn run(scratch: &Path, seconds: u32, preset: &str, bitrate: &str) -> anyhow::Result<serde_json::Value> {
    std::fs::create_dir_all(scratch)?;
    let source = scratch.join("source.mp4");
    eprintln!("making a {seconds} s 1080p source at {bitrate}");
    make_source(&source, seconds, bitrate)?;
    let limits = MediaSettings::default().limits;
    let info = probe::probe(&source, limits.probe_limits()).await.map_err(|r| anyhow::anyhow!("{r}"))?;
    let rungs = ladder::plan(info.width, info.height);
    let frame_rate = ladder::frame_rate(info.frame_rate);
    let ladder_for = |rungs: &[ladder::Rung], out: &Path| -> Vec<String> {
        std::fs::create_dir_all(out).unwrap();
        for rung in rungs {
            std::fs::create_dir_all(out.join(&rung.name)).unwrap();
        }
        Ladder {
            source: &source,
            out_dir: out,
            rungs,
            frame_rate,
            has_audio: true,
            preset,
            guards: probe::input_guards(limits.max_pixels),
            storyboard: None,
        }
        .args()
    };

    eprintln!("(a) seed: four sequential ffmpeg runs, one per rendition");
    let seed_s = timed(|| {
        for (i, rung) in rungs.iter().enumerate() {
            ffmpeg(&ladder_for(std::slice::from_ref(rung), &scratch.join(format!("seed-{i}"))))?;
        }
        Ok(())
    })?;
    eprintln!("(b) bare: one ffmpeg process for the whole ladder");
    let bare_s = timed(|| ffmpeg(&ladder_for(&rungs, &scratch.join("bare"))))?;

    eprintln!("(c) ottr: source in storage → verified ready asset");
    let (ottr_s, first_playable_s) = pipeline(scratch, &source, &info, preset, Until::Ready).await?;

    println!("{:<44} {:>9}", format!("1080p ladder, {seconds} s source at {bitrate}"), "seconds");
    println!("{:<44} {seed_s:>9.2}", "(a) seed: 4 sequential ffmpeg runs");
    println!("{:<44} {bare_s:>9.2}", "(b) bare single-process ffmpeg ladder");
    println!("{:<44} {ottr_s:>9.2}", "(c) ottr pipeline, storage to ready");
    println!("{:<44} {first_playable_s:>9.2}", "    of which until first playable");
    println!(
        "ottr / bare = {:.3} (target ≤ 1.10); seed / ottr = {:.3} (target ≥ 1.25)",
        ottr_s / bare_s,
        seed_s / ottr_s
    );

    Ok(serde_json::json!({
        "label": format!("{seconds} s source, {bitrate}"),
        "source": format!("lavfi testsrc2 1920x1080 30 fps, {seconds} s, H.264 {bitrate}, AAC"),
        "source_seconds": seconds,
        "preset": preset,
        "rungs": rungs.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        "seed_s": seed_s,
        "bare_s": bare_s,
        "ottr_s": ottr_s,
        "first_playable_s": first_playable_s,
        "ottr_over_bare": ottr_s / bare_s,
        "seed_over_ottr": seed_s / ottr_s,
    }))
}

#[derive(PartialEq)]
enum Until {
    Ready,
    Playable,
}

/// ottr's pipeline in-process: local storage, one worker, the source already stored.
/// Returns the seconds until ready (or until playable, when that is where it stops) and
/// until first playable.
async fn pipeline(
    scratch: &Path,
    source: &Path,
    info: &probe::SourceInfo,
    preset: &str,
    until: Until,
) -> anyhow::Result<(f64, f64)> {
    let database = ScratchDatabase::create().await.context("creating a scratch database")?;
    let result = async {
        let pool = ottr_runtime::db::pool(&database.settings)?;
        let redis_settings =
            RedisSettings { key_prefix: format!("ottr-bench:{}:", uuid::Uuid::new_v4()), ..Default::default() };
        let redis = Redis::connect(&redis_settings)?;
        let mut settings = MediaSettings { listen: ListenSettings::new("127.0.0.1", 0), ..Default::default() };
        settings.storage.local_root = scratch.join("objects");
        settings.work_dir = scratch.join("work");
        settings.worker.preset = preset.to_owned();
        settings.worker.poll_ms = 50;
        settings.worker.concurrency = 1;
        if until == Until::Playable {
            settings.worker.heartbeat_secs = 1;
        }
        // Anonymous: the benchmark never calls an RPC that needs a token.
        let verifier = Arc::new(TokenVerifier::from_settings(&TokenSettings::default())?);
        let app = ottr_media::Application::build(
            settings,
            Dependencies { pool: pool.clone(), redis, redis_settings, verifier },
        )
        .await?;
        let ctx = app.context();
        let asset_id = uuid::Uuid::new_v4();
        let source_key = AssetKeys::new(asset_id).source("mp4");
        ctx.store.put_file(&source_key, source).await?;
        tokio::spawn(app.run_until_stopped(std::future::pending()));

        let start = Instant::now();
        let job_id = queue::create(&pool, asset_id, "source.mp4", &source_key, info, None, 1).await?;
        let mut first_playable = None;
        loop {
            let event = ctx.events.snapshot(job_id).await?;
            if event.playable && first_playable.is_none() {
                first_playable = Some(start.elapsed().as_secs_f64());
                if until == Until::Playable {
                    // The worker sees the cancel at its next heartbeat and kills its ffmpeg.
                    queue::cancel(&pool, job_id).await?;
                    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                    break;
                }
            }
            if ottr_media::events::is_terminal(event.phase) {
                anyhow::ensure!(
                    event.phase == Phase::Ready as i32,
                    "the job ended {:?}: {}",
                    event.phase,
                    event.error_message
                );
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let total = start.elapsed().as_secs_f64();
        Ok((total, first_playable.unwrap_or(total)))
    }
    .await;
    database.drop().await;
    result
}
