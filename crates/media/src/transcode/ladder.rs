//! Which renditions a source gets. The seed ladder is 1080p 5000k, 720p 2500k, 480p
//! 1000k, 360p 500k. Each rung is a box (1920x1080 for 1080p) the picture must fit in,
//! whichever way it is turned, so a portrait video scales on its long side; the aspect
//! ratio is kept, dimensions are even, and nothing is ever upscaled. A source that sits
//! between two boxes (1918x1078, 1600x900) gets a top rung at its own size, so it loses
//! none of its picture to the rung below.

use serde::{Deserialize, Serialize};

/// One rendition of the ladder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rung {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// The rung's nominal rate: what the seed ladder gives it on average.
    pub video_kbps: u32,
    /// What its init and media segments took in storage, once encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

impl Rung {
    fn new(name: String, width: u32, height: u32, video_kbps: u32) -> Self {
        Self { name, width, height, video_kbps, bytes: None }
    }

    /// The rung's cap, 10% over its nominal rate: a hard scene may spend that much, and
    /// over a few seconds at most a buffer more (x264's VBV).
    pub fn maxrate_kbps(&self) -> u32 {
        self.video_kbps * 110 / 100
    }

    /// Two seconds of the cap: x264 can move bits between nearby frames, not further.
    pub fn bufsize_kbps(&self) -> u32 {
        self.maxrate_kbps() * 2
    }
}

/// (nominal lines, long side of the box, video kbps), best first.
pub const SEED: [(u32, u32, u32); 4] = [(1080, 1920, 5000), (720, 1280, 2500), (480, 854, 1000), (360, 640, 500)];

/// A source this close in pixels to the rung below gets no rung of its own: the two would
/// look alike and cost twice.
const OWN_RUNG_MIN_GAIN: f64 = 1.15;

fn even(value: f64) -> u32 {
    ((value / 2.0).round() as u32 * 2).max(2)
}

/// The rungs for an upright picture of `width` x `height`.
pub fn plan(width: u32, height: u32) -> Vec<Rung> {
    let (long, short) = (width.max(height) as f64, width.min(height) as f64);
    // How much a seed box shrinks the picture; above 1 it would be an upscale (equal is
    // kept: a 720p source gets a 720p rung).
    let scale = |&(lines, box_long, _): &(u32, u32, u32)| (f64::from(box_long) / long).min(f64::from(lines) / short);
    let fits = |seed: &(u32, u32, u32)| scale(seed) <= 1.0 + 1e-9;
    let mut rungs: Vec<Rung> = SEED
        .iter()
        .filter(|seed| fits(seed))
        .map(|seed @ &(lines, _, kbps)| {
            Rung::new(
                format!("{lines}p"),
                even(f64::from(width) * scale(seed)),
                even(f64::from(height) * scale(seed)),
                kbps,
            )
        })
        .collect();
    // Odd sides are rounded down to even (641 becomes 640, never 642).
    let (w, h) = ((width / 2 * 2).max(2), (height / 2 * 2).max(2));
    // Named by its short side, unless a box already has that name (a 1720x720 scope picture
    // fits the 720p box at 1280x536): rung names are folder names.
    let name = match format!("{}p", w.min(h)) {
        taken if rungs.iter().any(|r| r.name == taken) => format!("{w}x{h}"),
        free => free,
    };
    let own = |video_kbps| Rung::new(name.clone(), w, h, video_kbps);
    match SEED.iter().position(fits) {
        // At least the top box: the ladder is capped there.
        Some(0) => {}
        // Smaller than the smallest rung: one rendition at the source's own size.
        None => rungs.push(own(SEED[SEED.len() - 1].2)),
        // Between two boxes: a top rung at the source's size, at the upper rung's rate
        // scaled by pixels (never less than the rung below gets).
        Some(upper) => {
            let (lines, box_long, kbps) = SEED[upper - 1];
            let below = &rungs[0];
            let pixels = f64::from(w) * f64::from(h);
            if pixels >= f64::from(below.width) * f64::from(below.height) * OWN_RUNG_MIN_GAIN {
                let scaled = (f64::from(kbps) * pixels / (f64::from(box_long) * f64::from(lines))).round() as u32;
                let floor = below.video_kbps;
                rungs.insert(0, own(scaled.max(floor)));
            }
        }
    }
    rungs
}

/// The output frame rate: the source's, capped at 60 (and 30 when unknown).
pub fn frame_rate(source: f64) -> f64 {
    if source.is_finite() && source > 0.0 { source.min(60.0) } else { 30.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(rungs: &[Rung]) -> Vec<(&str, u32, u32)> {
        rungs.iter().map(|r| (r.name.as_str(), r.width, r.height)).collect()
    }

    #[test]
    fn a_1080p_source_gets_the_whole_seed_ladder() {
        assert_eq!(
            sizes(&plan(1920, 1080)),
            vec![("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360)]
        );
    }

    #[test]
    fn a_720p_source_is_never_upscaled() {
        assert_eq!(sizes(&plan(1280, 720)), vec![("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360)]);
    }

    #[test]
    fn portrait_scales_on_its_long_side() {
        assert_eq!(
            sizes(&plan(1080, 1920)),
            vec![("1080p", 1080, 1920), ("720p", 720, 1280), ("480p", 480, 854), ("360p", 360, 640)]
        );
        assert_eq!(sizes(&plan(720, 1280)), vec![("720p", 720, 1280), ("480p", 480, 854), ("360p", 360, 640)]);
    }

    #[test]
    fn other_aspect_ratios_fit_the_box_with_even_sides() {
        // 4:3 keeps its shape; a scope picture is bounded by the box's long side.
        assert_eq!(plan(1440, 1080)[0], Rung::new("1080p".into(), 1440, 1080, 5000));
        assert_eq!(sizes(&plan(2560, 1080))[0], ("1080p", 1920, 810));
        assert!(plan(1998, 1080).iter().all(|r| r.width % 2 == 0 && r.height % 2 == 0));
    }

    #[test]
    fn odd_or_small_sources_get_even_sides_and_never_grow() {
        assert_eq!(sizes(&plan(641, 359)), vec![("360p", 640, 358)], "fits the 360p box, odd sides rounded to even");
        assert_eq!(sizes(&plan(320, 240)), vec![("240p", 320, 240)]);
    }

    #[test]
    fn a_source_between_two_boxes_keeps_a_top_rung_at_its_own_size() {
        let rungs = plan(1918, 1078);
        assert_eq!(
            sizes(&rungs),
            vec![("1078p", 1918, 1078), ("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360)]
        );
        assert_eq!(rungs[0].video_kbps, 4986, "1080p's rate scaled by pixels");
        let rungs = plan(1600, 900);
        assert_eq!(sizes(&rungs)[0], ("900p", 1600, 900));
        assert!(rungs[0].video_kbps > rungs[1].video_kbps && rungs[0].video_kbps < 5000, "{rungs:?}");
        assert_eq!(sizes(&plan(900, 1600))[0], ("900p", 900, 1600), "portrait too");
        // Barely above a box: that rung is as good, so no near-copy of it.
        assert_eq!(sizes(&plan(1300, 730))[0], ("720p", 1280, 718));
        assert_eq!(plan(1300, 730).len(), 3);
        // A scope picture whose short side names a box gets a name of its own.
        let scope = plan(1720, 720);
        assert_eq!(sizes(&scope)[..2], [("1720x720", 1720, 720), ("720p", 1280, 536)]);
        // Above the top box the ladder stays capped at 1080p.
        assert_eq!(sizes(&plan(3840, 2160))[0], ("1080p", 1920, 1080));
    }

    #[test]
    fn the_frame_rate_is_capped() {
        assert_eq!(frame_rate(120.0), 60.0);
        assert_eq!(frame_rate(29.97), 29.97);
        assert_eq!(frame_rate(0.0), 30.0);
    }
}
