//! The poster and the storyboard: a sprite sheet of thumbnails at a fixed interval, and a
//! WebVTT file whose cues point into it with `#xywh=`, as players' scrub previews expect.

use std::path::Path;

use crate::ffmpeg;

/// Thumbnails per row of the sprite sheet.
pub const COLUMNS: u32 = 10;
/// At most this many thumbnails: one sheet of 10x10.
pub const MAX_TILES: u32 = 100;
pub const TILE_WIDTH: u32 = 160;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    pub interval_secs: f64,
    pub count: u32,
    pub tile_width: u32,
    pub tile_height: u32,
}

impl Plan {
    pub fn new(duration: f64, width: u32, height: u32) -> Self {
        let interval_secs = (duration / f64::from(MAX_TILES)).ceil().max(1.0);
        let count = ((duration / interval_secs).ceil() as u32).clamp(1, MAX_TILES);
        let tile_height =
            ((f64::from(TILE_WIDTH) * f64::from(height) / f64::from(width.max(1)) / 2.0).round() as u32 * 2).max(2);
        Self { interval_secs, count, tile_width: TILE_WIDTH, tile_height }
    }

    pub fn rows(&self) -> u32 {
        self.count.div_ceil(COLUMNS)
    }

    /// The cues, each pointing at its tile in `image`.
    pub fn vtt(&self, image: &str, duration: f64) -> String {
        let mut out = String::from("WEBVTT\n");
        for i in 0..self.count {
            let start = f64::from(i) * self.interval_secs;
            let end = (start + self.interval_secs).min(duration.max(start + 0.001));
            let (x, y) = ((i % COLUMNS) * self.tile_width, (i / COLUMNS) * self.tile_height);
            out.push_str(&format!(
                "\n{} --> {}\n{image}#xywh={x},{y},{},{}\n",
                timestamp(start),
                timestamp(end),
                self.tile_width,
                self.tile_height
            ));
        }
        out
    }

    /// The filter that turns decoded frames into thumbnails: one per interval, scaled to
    /// a tile. They are written as separate images while the ladder encodes (an output that
    /// writes nothing until the end stalls ffmpeg 5.1's progress reports) and laid out into
    /// the sheet afterwards by [`Plan::sheet_args`].
    pub fn filter(&self) -> String {
        format!("fps=1/{},scale={}:{},setsar=1", self.interval_secs, self.tile_width, self.tile_height)
    }

    /// ffmpeg arguments that lay the thumbnails (`thumbs`, an image2 pattern of ottr's own
    /// files) out into the sprite sheet `out`.
    pub fn sheet_args(&self, thumbs: &Path, out: &Path) -> Vec<String> {
        let mut args = ffmpeg::base_args();
        args.extend(ffmpeg::image_guards());
        args.extend(["-framerate", "1", "-i"].map(String::from));
        args.push(thumbs.to_string_lossy().into_owned());
        args.extend([
            "-vf".into(),
            format!("tile={COLUMNS}x{}", self.rows()),
            "-frames:v".into(),
            "1".into(),
            "-q:v".into(),
            "5".into(),
        ]);
        args.push(out.to_string_lossy().into_owned());
        args
    }
}

/// ffmpeg arguments for the poster: one frame at `at` seconds, `width` wide, read under
/// the source guards with `max_pixels`.
pub fn poster_args(source: &Path, out: &Path, at: f64, width: u32, max_pixels: u64) -> Vec<String> {
    let mut args = ffmpeg::base_args();
    args.extend(["-ss".into(), format!("{at:.3}")]);
    args.extend(ffmpeg::source_guards(max_pixels));
    args.extend(["-i".to_owned(), source.to_string_lossy().into_owned()]);
    args.extend(["-frames:v".into(), "1".into(), "-vf".into(), format!("scale={width}:-2"), "-q:v".into(), "3".into()]);
    args.push(out.to_string_lossy().into_owned());
    args
}

fn timestamp(secs: f64) -> String {
    let ms = (secs * 1000.0).round() as u64;
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_clip_gets_a_thumbnail_a_second_on_one_sheet() {
        let plan = Plan::new(3.0, 1920, 1080);
        assert_eq!(plan, Plan { interval_secs: 1.0, count: 3, tile_width: 160, tile_height: 90 });
        let vtt = plan.vtt("storyboard.jpg", 3.0);
        assert!(vtt.starts_with("WEBVTT\n"));
        assert!(vtt.contains("00:00:01.000 --> 00:00:02.000\nstoryboard.jpg#xywh=160,0,160,90"));
        assert_eq!(vtt.matches("#xywh=").count(), 3);
    }

    #[test]
    fn a_long_film_is_capped_at_one_full_sheet() {
        let plan = Plan::new(7200.0, 1920, 800);
        assert_eq!(plan.count, 100);
        assert_eq!(plan.interval_secs, 72.0);
        assert_eq!(plan.rows(), 10);
        assert!(plan.vtt("s.jpg", 7200.0).contains("01:58:48.000 --> 02:00:00.000\ns.jpg#xywh=1440,594,160,66"));
    }
}
