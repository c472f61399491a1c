//! Playlists. ffmpeg writes the variant playlists; ottr reads them to know which
//! segments are complete, marks them VOD when the encode ends, and writes the master
//! itself, because ffmpeg 5.1's lacks FRAME-RATE and AVERAGE-BANDWIDTH and names its
//! audio renditions `audio_2`. Audio and subtitle renditions are `EXT-X-MEDIA` entries
//! (RFC 8216 §4.3.4.1) every variant names; subtitles can be rewritten into a stored
//! master later without touching anything else in it.

use std::collections::{HashMap, HashSet};

use super::tracks::{AUDIO_GROUP, AudioRendition, SUBTITLE_GROUP, SubtitleKind, SubtitleTrack};

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

/// Peak and average bits per second from segment sizes and durations, in playlist order.
/// The peak is RFC 8216's (4.3.4.2): the largest bit rate of any contiguous run of
/// segments lasting 0.5 to 1.5 times the target duration, so the short segments a title
/// starts with (for an early first playable) are not taken alone.
pub fn bandwidths(segments: &[(u64, f64)]) -> (u64, u64) {
    let rate = |bytes: u64, secs: f64| if secs > 0.0 { (bytes as f64 * 8.0 / secs) as u64 } else { 0 };
    // As the playlist's EXT-X-TARGETDURATION: the longest segment, rounded (4.004 s is 4).
    let target = segments.iter().map(|s| s.1).fold(0.0, f64::max).round().max(1.0);
    let mut peak = 0;
    for start in 0..segments.len() {
        let (mut bytes, mut secs) = (0, 0.0);
        for &(b, d) in &segments[start..] {
            (bytes, secs) = (bytes + b, secs + d);
            if secs > 1.5 * target {
                break;
            }
            if secs >= 0.5 * target {
                peak = peak.max(rate(bytes, secs));
            }
        }
    }
    let (bytes, secs) = segments.iter().fold((0u64, 0f64), |(b, s), (bytes, d)| (b + bytes, s + d));
    let average = rate(bytes, secs);
    // A title shorter than half a target duration has no such run: its average is its peak.
    (peak.max(average), average)
}

/// The playlist with `EXT-X-TARGETDURATION` at least `secs`: ffmpeg writes the longest
/// segment so far, which grows from 1 to 4 over the opening segments, and a growing
/// playlist's target duration must not change (RFC 8216, 6.2.1).
pub fn with_target_duration(text: &str, secs: u32) -> String {
    text.lines()
        .map(|line| match line.strip_prefix("#EXT-X-TARGETDURATION:").and_then(|n| n.trim().parse::<u32>().ok()) {
            Some(found) if found < secs => format!("#EXT-X-TARGETDURATION:{secs}"),
            _ => line.to_owned(),
        })
        .map(|line| line + "\n")
        .collect()
}

/// Names within a group must differ: a second "English" becomes "English (2)".
fn unique<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = HashSet::new();
    labels
        .map(|label| {
            let mut name = label.to_owned();
            let mut n = 1;
            while !seen.insert(name.clone()) {
                n += 1;
                name = format!("{label} ({n})");
            }
            name
        })
        .collect()
}

fn language_attribute(language: &str) -> String {
    if language.is_empty() { String::new() } else { format!(",LANGUAGE=\"{language}\"") }
}

fn yes(flag: bool) -> &'static str {
    if flag { "YES" } else { "NO" }
}

/// The master: the audio group (when there is audio) and every variant naming it.
pub fn master(variants: &[Variant], audio: &[AudioRendition]) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for (a, name) in audio.iter().zip(unique(audio.iter().map(|a| a.label.as_str()))) {
        out.push_str(&format!(
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{AUDIO_GROUP}\",NAME=\"{name}\"{},DEFAULT={},AUTOSELECT=YES,CHANNELS=\"{}\",URI=\"{}/index.m3u8\"\n",
            language_attribute(&a.language),
            yes(a.default),
            a.channels,
            a.name
        ));
    }
    let group = if audio.is_empty() { String::new() } else { format!(",AUDIO=\"{AUDIO_GROUP}\"") };
    for v in variants {
        out.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},RESOLUTION={}x{},CODECS=\"{}\",FRAME-RATE={:.3}{group}\n{}\n",
            v.bandwidth, v.average_bandwidth, v.width, v.height, v.codecs, v.frame_rate, v.uri
        ));
    }
    out
}

/// The same master with `subtitles` as its subtitle group, replacing any it had: every
/// other line stays as it was, so variants, audio and bandwidths are untouched.
pub fn with_subtitles(master: &str, subtitles: &[SubtitleTrack]) -> String {
    let names = unique(subtitles.iter().map(|s| s.label.as_str()));
    let media: Vec<String> = subtitles
        .iter()
        .zip(names)
        .map(|(s, name)| {
            let characteristics = match s.kind {
                SubtitleKind::Captions => ",CHARACTERISTICS=\"public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound\"",
                SubtitleKind::Subtitles => "",
            };
            format!(
                "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"{SUBTITLE_GROUP}\",NAME=\"{name}\"{},DEFAULT=NO,AUTOSELECT=YES,FORCED={}{characteristics},URI=\"{}/index.m3u8\"",
                language_attribute(&s.language),
                yes(s.forced),
                s.folder
            )
        })
        .collect();
    let mut out = Vec::new();
    let mut placed = false;
    for line in master.lines() {
        if line.starts_with("#EXT-X-MEDIA:TYPE=SUBTITLES") {
            continue;
        }
        if let Some(attributes) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            if !placed {
                out.extend(media.iter().cloned());
                placed = true;
            }
            let kept: Vec<&str> =
                split_attributes(attributes).into_iter().filter(|a| !a.starts_with("SUBTITLES=")).collect();
            let mut line = format!("#EXT-X-STREAM-INF:{}", kept.join(","));
            if !subtitles.is_empty() {
                line.push_str(&format!(",SUBTITLES=\"{SUBTITLE_GROUP}\""));
            }
            out.push(line);
            continue;
        }
        out.push(line.to_owned());
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// An attribute list split at the commas outside quotes.
fn split_attributes(list: &str) -> Vec<&str> {
    let (mut parts, mut start, mut quoted) = (Vec::new(), 0, false);
    for (i, c) in list.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&list[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The playlist of a subtitle rendition: one WebVTT file for the whole title.
pub fn subtitle_playlist(duration_secs: f64, file: &str) -> String {
    let duration = duration_secs.max(0.001);
    format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:{duration:.3},\n{file}\n#EXT-X-ENDLIST\n",
        duration.ceil() as u64
    )
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
        // Four 1 s segments, then 4 s ones: a run of them counts, not the first alone.
        let opening = [(300_000, 1.0), (100_000, 1.0), (100_000, 1.0), (100_000, 1.0), (1_000_000, 4.0)];
        assert_eq!(bandwidths(&opening).0, 2_000_000);
        // 29.97 fps segments last 4.004 s: the target is still 4, so two opening segments
        // (2.002 s) are a run; 0.3 s alone is no run, and the average stands in.
        let ntsc = [(500_000, 1.001), (500_000, 1.001), (1_000_000, 4.004), (1_000_000, 4.004)];
        assert_eq!(bandwidths(&ntsc).0, 3_996_003);
        assert_eq!(bandwidths(&[(30_000, 0.3)]), (800_000, 800_000));
        let growing = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.000000,\nseg_00000.m4s\n";
        assert_eq!(with_target_duration(growing, 4), growing.replace("DURATION:1", "DURATION:4"));
        assert_eq!(
            with_target_duration(&growing.replace("DURATION:1", "DURATION:6"), 4),
            growing.replace("DURATION:1", "DURATION:6")
        );
        let text = master(
            &[Variant {
                uri: "720p/index.m3u8".into(),
                bandwidth: peak,
                average_bandwidth: average,
                width: 1280,
                height: 720,
                codecs: codecs["720p/index.m3u8"].clone(),
                frame_rate: 29.97,
            }],
            &[],
        );
        assert!(text.contains("#EXT-X-INDEPENDENT-SEGMENTS"));
        assert!(text.contains(
            "BANDWIDTH=4000000,AVERAGE-BANDWIDTH=2800000,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\",FRAME-RATE=29.970\n720p/index.m3u8"
        ));
    }

    fn variant(uri: &str) -> Variant {
        Variant {
            uri: uri.into(),
            bandwidth: 1,
            average_bandwidth: 1,
            width: 2,
            height: 2,
            codecs: "avc1.64001f,mp4a.40.2".into(),
            frame_rate: 25.0,
        }
    }

    fn audio(name: &str, language: &str, label: &str, default: bool) -> AudioRendition {
        AudioRendition {
            name: name.into(),
            source_index: 0,
            language: language.into(),
            label: label.into(),
            channels: 2,
            kbps: 128,
            default,
            measured: None,
            result: None,
            bytes: None,
        }
    }

    fn subtitle(folder: &str, language: &str, kind: SubtitleKind, forced: bool) -> SubtitleTrack {
        SubtitleTrack {
            id: folder.into(),
            folder: folder.into(),
            language: language.into(),
            label: language.into(),
            kind,
            forced,
            source_index: None,
        }
    }

    #[test]
    fn every_variant_names_one_audio_group_with_each_language_once() {
        let text = master(
            &[variant("720p/index.m3u8"), variant("360p/index.m3u8")],
            &[audio("audio_0", "en", "English", true), audio("audio_1", "", "English", false)],
        );
        assert!(text.contains("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio_0/index.m3u8\"\n"), "{text}");
        assert!(
            text.contains("NAME=\"English (2)\",DEFAULT=NO"),
            "names are unique, untagged audio has no LANGUAGE: {text}"
        );
        assert_eq!(text.matches(",AUDIO=\"audio\"\n").count(), 2, "{text}");
        assert!(!master(&[variant("a")], &[]).contains("AUDIO="));
    }

    #[test]
    fn subtitles_are_rewritten_into_a_master_and_nothing_else_changes() {
        let base = master(&[variant("720p/index.m3u8")], &[audio("audio_0", "en", "English", true)]);
        let one = with_subtitles(&base, &[subtitle("subs_s0", "en", SubtitleKind::Subtitles, false)]);
        assert!(one.contains("#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"en\",LANGUAGE=\"en\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"subs_s0/index.m3u8\""), "{one}");
        assert!(one.contains("FRAME-RATE=25.000,AUDIO=\"audio\",SUBTITLES=\"subs\"\n720p/index.m3u8"), "{one}");
        let two = with_subtitles(
            &one,
            &[
                subtitle("subs_s0", "en", SubtitleKind::Subtitles, false),
                subtitle("subs_u1", "fr", SubtitleKind::Captions, true),
            ],
        );
        assert_eq!(two.matches("TYPE=SUBTITLES").count(), 2);
        assert_eq!(two.matches("SUBTITLES=\"subs\"").count(), 1, "the variant names the group once: {two}");
        assert!(two.contains("FORCED=YES,CHARACTERISTICS=\"public.accessibility.transcribes-spoken-dialog"), "{two}");
        assert_eq!(with_subtitles(&two, &[]), base, "removing every track gives the master back");
    }

    #[test]
    fn a_subtitle_playlist_is_one_file_for_the_whole_title() {
        let text = subtitle_playlist(61.2, "subtitles.vtt");
        assert!(
            text.contains("#EXT-X-TARGETDURATION:62\n")
                && text.contains("#EXTINF:61.200,\nsubtitles.vtt\n#EXT-X-ENDLIST"),
            "{text}"
        );
    }
}
