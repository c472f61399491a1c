//! `bench/transcode`: products, not presets. The same generated 1080p source through (a)
//! the seed design's command as written (four sequential ffmpeg runs, one per rendition,
//! libx264 at its default preset, plain `-b:v`, audio in each), (b) a bare single-process
//! ffmpeg ladder with exactly ottr's default encoder settings beside its audio group, and
//! (c) ottr's whole pipeline with its default settings, from the source in storage to a
//! verified ready asset; once on an ordinary source (8 Mb/s) and once on a heavy one
//! (60 Mb/s). The three take turns for `--runs N` rounds (3): figures are
//! medians, ratios come with their range. Then, for a 10-minute source, ottr's time to
//! first playable against the bare ladder's time to its first complete set of segments
//! (the first segment of every rung on disk), also in turns. Writes
//! `bench/results/transcode.json` and `transcode.svg`.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use ottr_bench::{
    ScratchDatabase,
    chart::Panel,
    env_or, machine, machine_caption,
    rounds::{self, Spread},
    seed, version_of, write_results,
};
use ottr_media::{
    Dependencies, MediaSettings, probe,
    store::{assets, jobs},
    transcode::{
        command::{self, AudioGroup, Ladder},
        ladder,
        loudness::LoudnessTarget,
        picture::Picture,
        rate::Encoder,
        tracks::{self, AudioChoice},
    },
};
use ottr_proto::media::v1::Phase;
use ottr_runtime::{
    config::{ListenSettings, RedisSettings, TokenSettings},
    redis::Redis,
    token::{Revocations, TokenVerifier},
};
use ottr_storage::keys::AssetKeys;
use ottr_testkit::Clip;

fn ffmpeg(args: &[String]) -> anyhow::Result<()> {
    let out = std::process::Command::new("ffmpeg").args(args).output()?;
    anyhow::ensure!(out.status.success(), "ffmpeg failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

/// Runs every command at once and waits for all: the ladder and its audio group.
fn ffmpeg_together(commands: &[Vec<String>]) -> anyhow::Result<()> {
    std::thread::scope(|scope| {
        let running: Vec<_> = commands.iter().map(|args| scope.spawn(|| ffmpeg(args))).collect();
        running.into_iter().try_for_each(|r| r.join().map_err(|_| anyhow::anyhow!("ffmpeg thread panicked"))?)
    })
}

/// A 1080p30 source with audio at `scratch/source.mp4`, `bitrate` setting how heavy it
/// is to decode; with what ottr's probe reads of it and the ladder planned for it.
async fn make_source(
    scratch: &Path,
    seconds: u32,
    bitrate: &str,
) -> anyhow::Result<(PathBuf, probe::SourceInfo, Vec<ladder::Rung>)> {
    std::fs::create_dir_all(scratch)?;
    let source = scratch.join("source.mp4");
    Clip::testsrc("1920x1080", 30, seconds)
        .with_audio(true)
        .preset("veryfast")
        .args(["-b:v", bitrate])
        .yuv420p()
        .make(&source)?;
    let limits = MediaSettings::default().limits;
    let info = probe::probe(&source, limits.probe_limits()).await.map_err(|r| anyhow::anyhow!("{r}"))?;
    let rungs = ladder::plan(info.width, info.height);
    Ok((source, info, rungs))
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
    let bitrates: String = env_or("BENCH_SOURCE_BITRATES", "8M,60M".to_owned());
    let scratch = std::env::temp_dir().join(format!("ottr-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&scratch)?;
    let result = async {
        let rounds = rounds::runs();
        let mut runs = Vec::new();
        for (i, bitrate) in bitrates.split(',').enumerate() {
            runs.push(run(&scratch.join(format!("run-{i}")), seconds, bitrate, rounds).await?);
        }
        let long = first_playable_of_long(&scratch.join("long"), long_seconds, rounds).await?;
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
    write_results("transcode.json", &report)?;
    ottr_bench::chart::write("transcode", &svg)?;
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
            ("bare 1st segments", long["bare_first_segments_s"].as_f64().unwrap_or(f64::NAN)),
            ("ottr playable", long["first_playable_s"].as_f64().unwrap_or(f64::NAN)),
        ],
    });
    ottr_bench::chart::bar_chart(
        "Transcode: 1080p ladder to HLS, each product's own settings",
        &machine_caption(),
        &panels,
    )
}

/// The ffmpeg arguments of one single-process ladder for `rungs`, writing under `out`:
/// the picture only, as ottr runs it (the audio group is its own process).
fn ladder_args(
    source: &Path,
    info: &probe::SourceInfo,
    rungs: &[ladder::Rung],
    out: &Path,
    encoder: &Encoder,
) -> Vec<String> {
    std::fs::create_dir_all(out).unwrap();
    for rung in rungs {
        std::fs::create_dir_all(out.join(&rung.name)).unwrap();
    }
    Ladder {
        source,
        out_dir: out,
        rungs,
        frame_rate: ladder::frame_rate(info.frame_rate),
        picture: Picture::default(),
        encoder,
        opening_segments: command::opening_segments(info.duration_secs),
        max_pixels: MediaSettings::default().limits.max_pixels,
        storyboard: None,
    }
    .args()
}

/// The source's audio encoded once into the group, as ottr does, but without the loudness
/// pass (that is ottr's own work, measured on its side).
fn audio_args(source: &Path, info: &probe::SourceInfo, out: &Path) -> (Vec<String>, Vec<String>) {
    let audio = tracks::plan(&info.audio, &[], AudioChoice { max_streams: 8, surround: false }).audio;
    for rendition in &audio {
        std::fs::create_dir_all(out.join(&rendition.name)).unwrap();
    }
    let loudness = LoudnessTarget { enabled: false, ..LoudnessTarget::default() };
    let max_pixels = MediaSettings::default().limits.max_pixels;
    let args = AudioGroup { source, out_dir: out, audio: &audio, loudness: &loudness, max_pixels }.args();
    (args, audio.into_iter().map(|a| a.name).collect())
}

/// Runs the bare ladder and its audio group until every folder's playlist lists its first
/// segment (the muxer adds a segment only once it is complete), then stops them: the
/// earliest moment a bare ffmpeg ladder has something of every rendition that a player
/// could be given.
fn bare_first_segments(commands: &[Vec<String>], out: &Path, folders: &[String]) -> anyhow::Result<f64> {
    let start = Instant::now();
    let mut children = commands
        .iter()
        .map(|args| Command::new("ffmpeg").args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn())
        .collect::<Result<Vec<_>, _>>()?;
    let listed = |folder: &String| {
        std::fs::read_to_string(out.join(folder).join("index.m3u8")).is_ok_and(|text| text.contains("seg_"))
    };
    let result = loop {
        if folders.iter().all(listed) {
            break Ok(start.elapsed().as_secs_f64());
        }
        if let Some(status) = children.iter_mut().find_map(|c| c.try_wait().ok().flatten().filter(|s| !s.success())) {
            break Err(anyhow::anyhow!("the bare ladder ended ({status}) before its first segments"));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }
    result
}

/// A long source: ottr's time to first playable (the job is cancelled right after) and
/// the bare ladder's time to its first complete set of segments, in turns.
async fn first_playable_of_long(scratch: &Path, seconds: u32, rounds: usize) -> anyhow::Result<serde_json::Value> {
    eprintln!("making a {seconds} s 1080p source at 8M (this takes a few minutes)");
    let (source, info, rungs) = make_source(scratch, seconds, "8M").await?;
    let (mut ottr, mut bare) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        eprintln!("round {round}/{rounds}: (d) ottr: {seconds} s source in storage → first playable");
        let work = scratch.join(format!("round-{round}"));
        ottr.push(pipeline(&work, &source, &info, Until::Playable).await?.1);
        eprintln!("round {round}/{rounds}: (e) bare ladder → first segment of every rung");
        let out = work.join("bare");
        let (audio, audio_folders) = audio_args(&source, &info, &out);
        let commands = [ladder_args(&source, &info, &rungs, &out, &MediaSettings::default().video), audio];
        let folders: Vec<String> = rungs.iter().map(|r| r.name.clone()).chain(audio_folders).collect();
        bare.push(bare_first_segments(&commands, &out, &folders)?);
        let _ = std::fs::remove_dir_all(&work);
    }
    let (first_playable, first_segments) = (Spread::of(&ottr), Spread::of(&bare));
    let ratio = Spread::ratio(&ottr, &bare);
    println!(
        "{seconds} s source, median of {rounds} (min–max): ottr first playable after {first_playable} s; \
         the bare ladder's first complete set of segments after {first_segments} s; ottr / bare = {ratio:.3}"
    );
    Ok(serde_json::json!({
        "label": format!("{} min source", seconds / 60),
        "source_seconds": seconds,
        "runs": rounds,
        "first_playable_s": first_playable.median,
        "bare_first_segments_s": first_segments.median,
        "first_playable_over_bare_first_segments": ratio.median,
        "first_playable_over_bare_first_segments_range": [ratio.min, ratio.max],
        "rounds_s": { "ottr_first_playable": ottr, "bare_first_segments": bare },
        "notes": "bare_first_segments_s: ottr's ffmpeg ladder and audio group run bare with the same settings (no loudness pass), from start until every rendition's playlist lists its first segment, on local disk (ottr's figure includes reading the source from storage, measuring loudness and uploading those segments)",
    }))
}

async fn run(scratch: &Path, seconds: u32, bitrate: &str, rounds: usize) -> anyhow::Result<serde_json::Value> {
    eprintln!("making a {seconds} s 1080p source at {bitrate}");
    let (source, info, rungs) = make_source(scratch, seconds, bitrate).await?;
    let frame_rate = ladder::frame_rate(info.frame_rate);
    // ottr's ladder before capped CRF: veryfast at each rung's nominal rate (under today's
    // cap, 1.10x where it was 1.07x).
    let before = Encoder { preset: "veryfast".into(), crf: 0.0 };
    let encoder = MediaSettings::default().video;

    let (mut seed, mut previous, mut bare, mut ottr, mut playable) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        eprintln!("round {round}/{rounds}: (a) seed: four sequential ffmpeg runs, one per rendition, as written");
        seed.push(timed(|| {
            for (i, rung) in rungs.iter().enumerate() {
                let out = scratch.join(format!("seed-{i}"));
                std::fs::create_dir_all(&out)?;
                ffmpeg(&seed::rung_args(&source, rung, frame_rate, &out, true))?;
            }
            Ok(())
        })?);
        eprintln!("round {round}/{rounds}: (b0) bare ladder + audio group with ottr's previous settings");
        previous.push(timed(|| {
            let out = scratch.join("previous");
            ffmpeg_together(&[ladder_args(&source, &info, &rungs, &out, &before), audio_args(&source, &info, &out).0])
        })?);
        eprintln!("round {round}/{rounds}: (b) bare ladder + audio group with ottr's default encoder settings");
        bare.push(timed(|| {
            let out = scratch.join("bare");
            ffmpeg_together(&[ladder_args(&source, &info, &rungs, &out, &encoder), audio_args(&source, &info, &out).0])
        })?);
        eprintln!("round {round}/{rounds}: (c) ottr, default settings: source in storage → verified ready asset");
        let (ready, first) = pipeline(&scratch.join(format!("ottr-{round}")), &source, &info, Until::Ready).await?;
        ottr.push(ready);
        playable.push(first);
    }
    let (seed_s, bare_s, ottr_s, first_playable_s) =
        (Spread::of(&seed), Spread::of(&bare), Spread::of(&ottr), Spread::of(&playable));
    let (ottr_over_bare, seed_over_ottr) = (Spread::ratio(&ottr, &bare), Spread::ratio(&seed, &ottr));
    let (previous_s, now_over_previous) = (Spread::of(&previous), Spread::ratio(&bare, &previous));

    println!(
        "{:<52} {:>22}",
        format!("1080p ladder, {seconds} s source at {bitrate}"),
        format!("seconds, median of {rounds}")
    );
    println!("{:<52} {:>22}", "(a) seed as written: 4 runs, medium, -b:v", seed_s.to_string());
    println!("{:<52} {:>22}", "(b0) bare ladder, previous settings (veryfast, -b:v)", previous_s.to_string());
    println!(
        "{:<52} {:>22}",
        format!("(b) bare ladder, ottr's settings ({}, crf {})", encoder.preset, encoder.crf),
        bare_s.to_string()
    );
    println!("{:<52} {:>22}", "(c) ottr pipeline, storage to ready", ottr_s.to_string());
    println!("{:<52} {:>22}", "    of which until first playable", first_playable_s.to_string());
    println!("ottr / bare = {ottr_over_bare:.3} (target ≤ 1.10); seed / ottr = {seed_over_ottr:.3}");
    println!("ladder now / before capped CRF = {now_over_previous:.3} (target ≤ 1.5)");

    Ok(serde_json::json!({
        "label": format!("{seconds} s source, {bitrate}"),
        "source": format!("lavfi testsrc2 1920x1080 30 fps, {seconds} s, H.264 {bitrate}, AAC"),
        "source_seconds": seconds,
        "encoder": { "preset": encoder.preset, "crf": encoder.crf },
        "rungs": rungs.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        "runs": rounds,
        "order": "seed, previous settings, bare, ottr, round after round; figures are medians over the rounds",
        "previous_settings_s": previous_s.median,
        "bare_over_previous_settings": now_over_previous.median,
        "bare_over_previous_settings_range": [now_over_previous.min, now_over_previous.max],
        "seed_s": seed_s.median,
        "bare_s": bare_s.median,
        "ottr_s": ottr_s.median,
        "first_playable_s": first_playable_s.median,
        "ottr_over_bare": ottr_over_bare.median,
        "ottr_over_bare_range": [ottr_over_bare.min, ottr_over_bare.max],
        "seed_over_ottr": seed_over_ottr.median,
        "seed_over_ottr_range": [seed_over_ottr.min, seed_over_ottr.max],
        "rounds_s": { "seed": seed, "previous_settings": previous, "bare": bare, "ottr": ottr, "first_playable": playable },
    }))
}

#[derive(PartialEq)]
enum Until {
    Ready,
    Playable,
}

/// ottr's pipeline in-process with its default settings: local storage, one worker, the
/// source already stored.
/// Returns the seconds until ready (or until playable, when that is where it stops) and
/// until first playable.
async fn pipeline(scratch: &Path, source: &Path, info: &probe::SourceInfo, until: Until) -> anyhow::Result<(f64, f64)> {
    let database = ScratchDatabase::create().await.context("creating a scratch database")?;
    let result = async {
        let pool = ottr_runtime::db::pool(&database.settings)?;
        let redis_settings =
            RedisSettings { key_prefix: format!("ottr-bench:{}:", uuid::Uuid::new_v4()), ..Default::default() };
        let redis = Redis::connect(&redis_settings)?;
        let mut settings = MediaSettings { listen: ListenSettings::new("127.0.0.1", 0), ..Default::default() };
        settings.storage.local_root = scratch.join("objects");
        settings.work_dir = scratch.join("work");
        settings.worker.poll_ms = 50;
        settings.worker.concurrency = 1;
        if until == Until::Playable {
            settings.worker.heartbeat_secs = 1;
        }
        // Anonymous: the benchmark never calls an RPC that needs a token.
        let verifier =
            Arc::new(TokenVerifier::from_settings(&TokenSettings::default(), Revocations::new(redis.clone()))?);
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
        let asset = assets::NewAsset {
            id: asset_id,
            filename: "source.mp4",
            source_key: &source_key,
            source: info,
            created_by: None,
        };
        let job_id = assets::create(&pool, &asset, 1).await?;
        let mut first_playable = None;
        loop {
            let event = ctx.events.snapshot(job_id).await?;
            if event.playable && first_playable.is_none() {
                first_playable = Some(start.elapsed().as_secs_f64());
                if until == Until::Playable {
                    // The worker sees the cancel at its next heartbeat and kills its ffmpeg.
                    jobs::cancel(&pool, job_id).await?;
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
