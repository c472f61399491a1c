//! Playlists. ffmpeg writes the variant playlists; ottr reads them to know which
//! segments are complete, marks them VOD when the encode ends, and writes the master
//! itself, because ffmpeg 5.1's lacks FRAME-RATE and AVERAGE-BANDWIDTH.

use std::collections::HashMap;

/// A segment listed in a variant playlist.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub uri: String,
    pub duration: f64,
}

/// The init segment (EXT-X-MAP) and the segments of a variant playlist, in order.
pub fn segments(playlist: &str) -> (Option<String>, Vec<Segment>) {
    let mut init = None;
    let mut found = Vec::new();
    let mut duration = None;
    for line in playlist.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#EXT-X-MAP:") {
            init = attribute(rest, "URI");
        } else if let Some(rest) = line.strip_prefix("#EXTINF:") {
            duration = rest.split(',').next().and_then(|d| d.parse::<f64>().ok());
        } else if !line.is_empty()
            && !line.starts_with('#')
            && let Some(duration) = duration.take()
        {
            found.push(Segment { uri: line.to_owned(), duration });
        }
    }
    (init, found)
}

/// The value of `name` in an attribute list (`A=1,URI="x",B=2`).
fn attribute(list: &str, name: &str) -> Option<String> {
    let mut rest = list;
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], quoted[end + 1..].trim_start_matches(','))
        } else {
            after.split_once(',').unwrap_or((after, ""))
        };
        if key.trim() == name {
            return Some(value.to_owned());
        }
        rest = next;
    }
    None
}

/// A finished variant playlist: VOD, closed with ENDLIST.
pub fn finalize(playlist: &str) -> String {
    let mut out = playlist.replace("#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-PLAYLIST-TYPE:VOD");
    if !out.contains("#EXT-X-PLAYLIST-TYPE:") {
        out = out.replacen("#EXTM3U\n", "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n", 1);
    }
    if !out.contains("#EXT-X-ENDLIST") {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("#EXT-X-ENDLIST\n");
    }
    out
}

/// The CODECS ffmpeg found for each variant URI in its own master playlist.
pub fn codecs_by_uri(ffmpeg_master: &str) -> HashMap<String, String> {
    let mut found = HashMap::new();
    let mut pending = None;
    for line in ffmpeg_master.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            pending = attribute(rest, "CODECS");
        } else if !line.is_empty()
            && !line.starts_with('#')
            && let Some(codecs) = pending.take()
        {
            found.insert(line.to_owned(), codecs);
        }
    }
    found
}

/// One entry of the master playlist.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub uri: String,
    /// Peak bits per second over any segment.
    pub bandwidth: u64,
    pub average_bandwidth: u64,
    pub width: u32,
    pub height: u32,
    pub codecs: String,
    pub frame_rate: f64,
}

/// Peak and average bits per second from segment sizes and durations.
pub fn bandwidths(segments: &[(u64, f64)]) -> (u64, u64) {
    let peak =
        segments.iter().filter(|(_, d)| *d > 0.0).map(|(bytes, d)| (*bytes as f64 * 8.0 / d) as u64).max().unwrap_or(0);
    let (bytes, secs) = segments.iter().fold((0u64, 0f64), |(b, s), (bytes, d)| (b + bytes, s + d));
    let average = if secs > 0.0 { (bytes as f64 * 8.0 / secs) as u64 } else { 0 };
    (peak, average)
}

pub fn master(variants: &[Variant]) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for v in variants {
        out.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},RESOLUTION={}x{},CODECS=\"{}\",FRAME-RATE={:.3}\n{}\n",
            v.bandwidth, v.average_bandwidth, v.width, v.height, v.codecs, v.frame_rate, v.uri
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n\
        #EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n\
        #EXTINF:4.000000,\nseg_00000.m4s\n#EXTINF:4.000000,\nseg_00001.m4s\n";

    #[test]
    fn segments_and_init_are_read_from_a_variant_playlist() {
        let (init, found) = segments(EVENT);
        assert_eq!(init.as_deref(), Some("init.mp4"));
        assert_eq!(found.iter().map(|s| s.uri.as_str()).collect::<Vec<_>>(), vec!["seg_00000.m4s", "seg_00001.m4s"]);
        assert_eq!(found[0].duration, 4.0);
    }

    #[test]
    fn a_finished_playlist_is_vod_and_ends() {
        let done = finalize(EVENT);
        assert!(done.contains("#EXT-X-PLAYLIST-TYPE:VOD") && !done.contains("EVENT"));
        assert!(done.trim_end().ends_with("#EXT-X-ENDLIST"));
        assert_eq!(finalize(&done), done, "idempotent");
    }

    #[test]
    fn the_master_carries_every_attribute_players_use() {
        let ffmpeg = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=2890800,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\"\n720p/index.m3u8\n";
        let codecs = codecs_by_uri(ffmpeg);
        assert_eq!(codecs["720p/index.m3u8"], "avc1.64001f,mp4a.40.2");
        let (peak, average) = bandwidths(&[(1_000_000, 4.0), (2_000_000, 4.0), (500_000, 2.0)]);
        assert_eq!((peak, average), (4_000_000, 2_800_000));
        let text = master(&[Variant {
            uri: "720p/index.m3u8".into(),
            bandwidth: peak,
            average_bandwidth: average,
            width: 1280,
            height: 720,
            codecs: codecs["720p/index.m3u8"].clone(),
            frame_rate: 29.97,
        }]);
        assert!(text.contains("#EXT-X-INDEPENDENT-SEGMENTS"));
        assert!(text.contains(
            "BANDWIDTH=4000000,AVERAGE-BANDWIDTH=2800000,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\",FRAME-RATE=29.970\n720p/index.m3u8"
        ));
    }
}
