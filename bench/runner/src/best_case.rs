//! The best any per-title CRF choice could do against the seed (`bench/quality`). From
//! variants of one preset at several CRFs, each rung's bytes at exactly the seed's SSIM are
//! interpolated (log bytes linear in SSIM between the two CRFs that bracket it). That is an
//! oracle: a per-title search on samples (ab-av1's way) can only come close to it, since
//! it does not know the seed's SSIM and measures samples, not the whole title. If the
//! oracle misses the goal, no choice of CRF per title and rung meets it at that preset.

use serde_json::{Value, json};

/// One rung encoded at one CRF: (crf, ssim, bytes).
type Point = (f64, f64, f64);

/// Where a rung reaches `target` SSIM: the interpolated CRF and bytes, and whether any
/// CRF tried reached it (if not: the best SSIM tried, and its bytes).
#[derive(Debug, PartialEq)]
pub struct AtTarget {
    pub crf: f64,
    pub bytes: f64,
    pub reached: bool,
}

/// `points` of one rung at several CRFs; the highest CRF (fewest bytes) that still
/// gives `target`. Past the highest CRF tried, its bytes stand (an upper bound).
pub fn at_target(points: &[Point], target: f64) -> Option<AtTarget> {
    let mut points = points.to_vec();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some(k) = points.iter().rposition(|&(_, ssim, _)| ssim >= target) else {
        let best = points.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
        return Some(AtTarget { crf: best.0, bytes: best.2, reached: false });
    };
    let (crf0, ssim0, bytes0) = points[k];
    let Some(&(crf1, ssim1, bytes1)) = points.get(k + 1) else {
        return Some(AtTarget { crf: crf0, bytes: bytes0, reached: true });
    };
    // ssim1 < target <= ssim0: the share of the way from point k to point k+1.
    let t = if ssim0 > ssim1 { (ssim0 - target) / (ssim0 - ssim1) } else { 0.0 };
    let bytes = (bytes0.ln() + t * (bytes1.ln() - bytes0.ln())).exp();
    Some(AtTarget { crf: crf0 + t * (crf1 - crf0), bytes, reached: true })
}

/// The oracle for every preset with at least two CRF variants in `variants` (the
/// `bench/quality` variant reports, all over the same clips in the same order).
pub fn report(variants: &[Value]) -> Vec<Value> {
    let mut presets: Vec<&str> = variants
        .iter()
        .filter(|v| v["crf"].as_f64().is_some_and(|crf| crf > 0.0))
        .filter_map(|v| v["preset"].as_str())
        .collect();
    presets.sort_unstable();
    presets.dedup();
    presets
        .into_iter()
        .filter_map(|preset| {
            let group: Vec<&Value> = variants
                .iter()
                .filter(|v| v["preset"] == preset && v["crf"].as_f64().is_some_and(|crf| crf > 0.0))
                .collect();
            (group.len() >= 2).then(|| preset_report(preset, &group))
        })
        .collect()
}

fn preset_report(preset: &str, group: &[&Value]) -> Value {
    let clip_count = group[0]["clips"].as_array().map_or(0, Vec::len);
    let mut clips = Vec::new();
    let mut out_of_reach = 0;
    for c in 0..clip_count {
        let seed_rungs = group[0]["clips"][c]["rungs"].as_array().cloned().unwrap_or_default();
        let (mut seed_total, mut best_total) = (0.0, 0.0);
        let mut rungs = Vec::new();
        for (r, seed_rung) in seed_rungs.iter().enumerate() {
            // A rung the seed has no measure of says nothing either way.
            let (Some(target), Some(seed_bytes)) = (seed_rung["seed_ssim"].as_f64(), seed_rung["seed_bytes"].as_f64())
            else {
                continue;
            };
            if seed_bytes <= 0.0 {
                continue;
            }
            let points: Vec<Point> = group
                .iter()
                .filter_map(|v| {
                    let rung = &v["clips"][c]["rungs"][r];
                    Some((v["crf"].as_f64()?, rung["ottr_ssim"].as_f64()?, rung["ottr_bytes"].as_f64()?))
                })
                .collect();
            let Some(best) = at_target(&points, target) else { continue };
            seed_total += seed_bytes;
            best_total += best.bytes;
            out_of_reach += usize::from(!best.reached);
            rungs.push(json!({
                "rung": seed_rung["rung"],
                "crf": best.crf,
                "bytes_ratio": best.bytes / seed_bytes,
                "reaches_seed_ssim": best.reached,
            }));
        }
        if rungs.is_empty() {
            continue;
        }
        // A rung out of reach counts the bytes of its best encode, which still falls short of
        // the seed's SSIM: reaching it would cost more, so the ratio is then a lower bound.
        let lower_bound = rungs.iter().any(|rung| rung["reaches_seed_ssim"] == false);
        clips.push(json!({
            "clip": group[0]["clips"][c]["clip"],
            "bytes_ratio": best_total / seed_total,
            "bytes_ratio_is_lower_bound": lower_bound,
            "rungs": rungs,
        }));
    }
    let ratios: Vec<f64> = clips.iter().filter_map(|c| c["bytes_ratio"].as_f64()).collect();
    let crfs: Vec<Value> = group.iter().map(|v| v["crf"].clone()).collect();
    json!({
        "preset": preset,
        "crfs_tried": crfs,
        "mean_bytes_ratio": ratios.iter().sum::<f64>() / ratios.len().max(1) as f64,
        "mean_bytes_ratio_is_lower_bound": out_of_reach > 0,
        "rungs_out_of_reach": out_of_reach,
        "clips": clips,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_interpolated_between_the_two_crfs_around_the_target() {
        let points = [(18.0, 0.99, 4000.0), (22.0, 0.97, 1000.0), (26.0, 0.95, 500.0)];
        let at = at_target(&points, 0.98).unwrap();
        assert!(at.reached);
        assert!((at.crf - 20.0).abs() < 1e-9, "{at:?}");
        assert!((at.bytes - 2000.0).abs() < 1e-6, "halfway in log bytes: {at:?}");
    }

    #[test]
    fn a_target_past_every_crf_tried_is_out_of_reach_and_an_easy_one_is_bounded() {
        let points = [(22.0, 0.97, 1000.0), (18.0, 0.975, 1500.0)];
        assert_eq!(at_target(&points, 0.99), Some(AtTarget { crf: 18.0, bytes: 1500.0, reached: false }));
        assert_eq!(at_target(&points, 0.90), Some(AtTarget { crf: 22.0, bytes: 1000.0, reached: true }));
        assert_eq!(at_target(&[], 0.9), None);
    }

    #[test]
    fn the_report_groups_crf_variants_by_preset_and_compares_with_the_seeds_bytes() {
        let variant = |crf: f64, ssim: f64, bytes: f64| {
            json!({ "preset": "faster", "crf": crf, "clips": [{ "clip": "a", "rungs": [
                { "rung": "720p", "seed_ssim": 0.98, "seed_bytes": 2000.0, "ottr_ssim": ssim, "ottr_bytes": bytes }
            ]}]})
        };
        let nominal = json!({ "preset": "veryfast", "crf": 0.0, "clips": [] });
        let reports = report(&[variant(18.0, 0.99, 4000.0), variant(22.0, 0.97, 1000.0), nominal]);
        assert_eq!(reports.len(), 1, "crf 0 (nominal rate) is no CRF variant");
        assert_eq!(reports[0]["preset"], "faster");
        assert!((reports[0]["mean_bytes_ratio"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{}", reports[0]);
        assert_eq!(reports[0]["rungs_out_of_reach"], 0);
        assert_eq!(reports[0]["mean_bytes_ratio_is_lower_bound"], false);
    }

    #[test]
    fn a_rung_out_of_reach_makes_the_ratio_a_lower_bound_and_an_unmeasured_rung_is_skipped() {
        let variant = |crf: f64, ssim: f64, bytes: f64| {
            json!({ "preset": "faster", "crf": crf, "clips": [{ "clip": "a", "rungs": [
                { "rung": "720p", "seed_ssim": 0.99, "seed_bytes": 2000.0, "ottr_ssim": ssim, "ottr_bytes": bytes },
                { "rung": "360p", "seed_ssim": null, "seed_bytes": 0.0, "ottr_ssim": ssim, "ottr_bytes": bytes }
            ]}]})
        };
        let reports = report(&[variant(18.0, 0.98, 3000.0), variant(22.0, 0.97, 1000.0)]);
        assert_eq!(reports[0]["rungs_out_of_reach"], 1);
        assert_eq!(reports[0]["mean_bytes_ratio_is_lower_bound"], true);
        assert_eq!(reports[0]["clips"][0]["rungs"].as_array().unwrap().len(), 1, "{}", reports[0]);
        assert!((reports[0]["mean_bytes_ratio"].as_f64().unwrap() - 1.5).abs() < 1e-9, "{}", reports[0]);
    }
}
