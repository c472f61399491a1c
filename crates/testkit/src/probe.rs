//! ffprobe's JSON (`-print_format json -show_streams`) of a file or a playlist, and what
//! it says of a ladder, the way the transcode and delivery tests both check one.

use std::path::Path;

use serde_json::Value;

/// What `ffprobe -show_streams` reports of `path`, a file or a playlist, as JSON.
pub fn show_streams(path: &Path) -> anyhow::Result<Value> {
    let mut ffprobe = std::process::Command::new("ffprobe");
    ffprobe.args(["-v", "error", "-print_format", "json", "-show_streams"]).arg(path);
    let out = crate::process::run(&mut ffprobe, format_args!("read {}", path.display()))?;
    Ok(serde_json::from_slice(&out)?)
}

/// (width, height) of every distinct video stream, smallest first.
pub fn video_sizes(probe: &Value) -> Vec<(u64, u64)> {
    let mut sizes: Vec<(u64, u64)> = probe["streams"]
        .as_array()
        .expect("ffprobe lists streams")
        .iter()
        .filter(|s| s["codec_type"] == "video")
        .map(|s| (s["width"].as_u64().expect("a video width"), s["height"].as_u64().expect("a video height")))
        .collect();
    sizes.sort();
    sizes.dedup();
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_streams_are_listed_once_each_smallest_first() {
        let probe = serde_json::json!({"streams": [
            {"codec_type": "video", "width": 1280, "height": 720},
            {"codec_type": "audio"},
            {"codec_type": "video", "width": 640, "height": 360},
            {"codec_type": "video", "width": 1280, "height": 720},
        ]});
        assert_eq!(video_sizes(&probe), vec![(640, 360), (1280, 720)]);
    }
}
