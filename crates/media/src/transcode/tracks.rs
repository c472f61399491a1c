//! Which audio and subtitle renditions a source gets. Each kept audio stream is encoded
//! once into the HLS audio group every video variant refers to (not once per rung); 5.1
//! is downmixed to stereo, and can also be kept as a second 5.1 rendition. Text subtitle
//! streams become WebVTT renditions; image subtitles cannot, and are skipped. What is left
//! out is said in a note on the asset.

use serde::{Deserialize, Serialize};

use super::picture::Picture;
use crate::probe::{AudioStream, SubtitleStream};

/// Stereo AAC-LC.
pub const STEREO_KBPS: u32 = 128;
/// 5.1 AAC-LC, when kept.
pub const SURROUND_KBPS: u32 = 384;
/// The HLS group every video variant names in `AUDIO=`.
pub const AUDIO_GROUP: &str = "audio";
/// And in `SUBTITLES=`.
pub const SUBTITLE_GROUP: &str = "subs";

/// What is measured of one audio rendition (EBU R128), in LUFS, dBTP and dBFS.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Loudness {
    pub integrated_lufs: f64,
    /// The peak between samples too (4x oversampled): measured of what came out.
    #[serde(default)]
    pub true_peak_dbtp: Option<f64>,
    /// The highest sample: all the fast measurement before the encode reads.
    #[serde(default)]
    pub sample_peak_dbfs: Option<f64>,
    pub range_lu: f64,
    pub threshold_lufs: f64,
}

/// One rendition of the audio group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioRendition {
    /// Its folder beside the video rungs (`audio_0`).
    pub name: String,
    /// Which audio stream of the source (`0:a:N`).
    pub source_index: usize,
    /// As HLS wants it (RFC 5646: `en`, `fr`), or empty when the source does not say.
    pub language: String,
    pub label: String,
    pub channels: u32,
    pub kbps: u32,
    pub default: bool,
    /// The source's loudness, measured before the encode.
    pub measured: Option<Loudness>,
    /// The rendition's own, measured after it.
    pub result: Option<Loudness>,
    /// What its init and media segments took in storage, once encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// Subtitles are captions when they also describe sounds, for viewers who cannot hear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubtitleKind {
    Subtitles,
    Captions,
}

impl SubtitleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubtitleKind::Subtitles => "subtitles",
            SubtitleKind::Captions => "captions",
        }
    }
}

/// One WebVTT rendition of the subtitle group, from the source or uploaded later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubtitleTrack {
    /// Stable for the track's life (`s0` from the source, a short random id when uploaded).
    pub id: String,
    /// Its folder beside the rungs; a new one for every replacement, so a player that
    /// loaded the previous master keeps reading the previous file.
    pub folder: String,
    pub language: String,
    pub label: String,
    pub kind: SubtitleKind,
    pub forced: bool,
    /// Which subtitle stream of the source, for extracted tracks.
    pub source_index: Option<usize>,
}

/// An asset's tracks as recorded with it (`media.assets.tracks`): what viewers can choose
/// from, what was left out and why, and what was done to the picture.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tracks {
    pub audio: Vec<AudioRendition>,
    pub subtitles: Vec<SubtitleTrack>,
    pub notes: Vec<String>,
    pub picture: Picture,
}

/// What was decided for a source's audio and subtitles.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrackPlan {
    pub audio: Vec<AudioRendition>,
    pub subtitles: Vec<SubtitleTrack>,
    /// Streams left out, and why, for the asset.
    pub notes: Vec<String>,
}

/// How audio is kept.
#[derive(Clone, Copy, Debug)]
pub struct AudioChoice {
    pub max_streams: usize,
    /// Keep a 5.1 rendition beside the stereo downmix of each 5.1 stream.
    pub surround: bool,
}

/// ISO 639-2 (as containers tag streams) to the RFC 5646 tag HLS names, with a name for
/// people; the languages of most catalogues. Others keep their three letters.
const LANGUAGES: &[(&str, &str, &str)] = &[
    ("eng", "en", "English"),
    ("fra", "fr", "Français"),
    ("fre", "fr", "Français"),
    ("deu", "de", "Deutsch"),
    ("ger", "de", "Deutsch"),
    ("spa", "es", "Español"),
    ("ita", "it", "Italiano"),
    ("por", "pt", "Português"),
    ("nld", "nl", "Nederlands"),
    ("dut", "nl", "Nederlands"),
    ("swe", "sv", "Svenska"),
    ("nor", "no", "Norsk"),
    ("dan", "da", "Dansk"),
    ("fin", "fi", "Suomi"),
    ("pol", "pl", "Polski"),
    ("tur", "tr", "Türkçe"),
    ("rus", "ru", "Русский"),
    ("ukr", "uk", "Українська"),
    ("ara", "ar", "العربية"),
    ("hin", "hi", "हिन्दी"),
    ("jpn", "ja", "日本語"),
    ("kor", "ko", "한국어"),
    ("zho", "zh", "中文"),
    ("chi", "zh", "中文"),
];

/// The HLS language tag and a display name for a stream's tag; `und` has neither.
pub fn language(tag: &str) -> (String, Option<&'static str>) {
    let tag = tag.trim().to_ascii_lowercase();
    if tag.is_empty() || tag == "und" {
        return (String::new(), None);
    }
    match LANGUAGES.iter().find(|(three, two, _)| *three == tag || *two == tag) {
        Some((_, two, name)) => ((*two).to_owned(), Some(name)),
        None if well_formed(&tag) => (tag, None),
        None => (String::new(), None),
    }
}

/// The shape of an RFC 5646 tag: a 2–8 letter language, then 1–8 letter-or-digit subtags.
fn well_formed(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or("");
    tag.len() <= 35
        && (2..=8).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A name for people, safe inside a playlist's quoted attribute (no quotes, no line breaks).
pub fn label(title: Option<&str>, language_name: Option<&str>, fallback: String) -> String {
    let clean = |t: &str| -> String {
        t.chars().filter(|c| !c.is_control()).map(|c| if c == '"' { '\'' } else { c }).take(64).collect()
    };
    title.map(clean).filter(|t| !t.trim().is_empty()).or_else(|| language_name.map(str::to_owned)).unwrap_or(fallback)
}

/// The renditions for a source's audio and subtitle streams.
pub fn plan(audio: &[AudioStream], subtitles: &[SubtitleStream], choice: AudioChoice) -> TrackPlan {
    let mut plan = TrackPlan::default();
    // The default among the streams that are kept, so one is always marked.
    let default_stream = audio.iter().take(choice.max_streams).position(|a| a.default).unwrap_or(0);
    for (n, stream) in audio.iter().enumerate() {
        if n >= choice.max_streams {
            plan.notes.push(format!(
                "audio stream {} ({}) left out: at most {} audio streams are kept",
                stream.index, stream.language, choice.max_streams
            ));
            continue;
        }
        let (tag, name) = language(&stream.language);
        let label = label(stream.title.as_deref(), name, format!("Audio {}", n + 1));
        let rendition = |suffix: &str, channels, kbps, default| AudioRendition {
            name: format!("audio_{}{suffix}", stream.index),
            source_index: stream.index,
            language: tag.clone(),
            label: if suffix.is_empty() { label.clone() } else { format!("{label} 5.1") },
            channels,
            kbps,
            default,
            measured: None,
            result: None,
            bytes: None,
        };
        plan.audio.push(rendition("", 2, STEREO_KBPS, n == default_stream));
        if choice.surround && stream.channels >= 6 {
            plan.audio.push(rendition("_51", 6, SURROUND_KBPS, false));
        }
    }
    for stream in subtitles {
        if !stream.is_text() {
            plan.notes.push(format!(
                "subtitle stream {} ({}, {}) skipped: image subtitles cannot become WebVTT",
                stream.index, stream.codec, stream.language
            ));
            continue;
        }
        let (tag, name) = language(&stream.language);
        plan.subtitles.push(SubtitleTrack {
            id: format!("s{}", stream.index),
            folder: format!("subs_s{}", stream.index),
            language: tag,
            label: label(stream.title.as_deref(), name, format!("Subtitles {}", stream.index + 1)),
            kind: if stream.hearing_impaired { SubtitleKind::Captions } else { SubtitleKind::Subtitles },
            forced: stream.forced,
            source_index: Some(stream.index),
        });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio(index: usize, language: &str, channels: u32, default: bool) -> AudioStream {
        AudioStream { index, codec: "aac".into(), channels, language: language.into(), title: None, default }
    }

    fn subtitle(index: usize, codec: &str, language: &str, forced: bool) -> SubtitleStream {
        SubtitleStream {
            index,
            codec: codec.into(),
            language: language.into(),
            title: None,
            forced,
            hearing_impaired: false,
        }
    }

    const CHOICE: AudioChoice = AudioChoice { max_streams: 8, surround: false };

    #[test]
    fn each_language_is_one_stereo_rendition_and_the_default_is_kept() {
        let plan = plan(&[audio(0, "eng", 6, false), audio(1, "fra", 2, true)], &[], CHOICE);
        let seen: Vec<_> = plan
            .audio
            .iter()
            .map(|a| (a.name.as_str(), a.language.as_str(), a.label.as_str(), a.channels, a.default))
            .collect();
        assert_eq!(seen, vec![("audio_0", "en", "English", 2, false), ("audio_1", "fr", "Français", 2, true)]);
        assert!(plan.notes.is_empty());
    }

    #[test]
    fn surround_is_kept_beside_the_downmix_when_asked() {
        let plan = plan(&[audio(0, "und", 6, false)], &[], AudioChoice { surround: true, ..CHOICE });
        let seen: Vec<_> =
            plan.audio.iter().map(|a| (a.name.as_str(), a.label.as_str(), a.channels, a.kbps, a.default)).collect();
        assert_eq!(seen, vec![("audio_0", "Audio 1", 2, 128, true), ("audio_0_51", "Audio 1 5.1", 6, 384, false)]);
        assert_eq!(plan.audio[0].language, "", "untagged audio names no language");
    }

    #[test]
    fn a_default_stream_past_the_limit_leaves_the_first_kept_one_default() {
        let streams = [audio(0, "eng", 2, false), audio(1, "fra", 2, false), audio(2, "deu", 2, true)];
        let plan = plan(&streams, &[], AudioChoice { max_streams: 2, surround: false });
        assert_eq!(plan.audio.iter().map(|a| a.default).collect::<Vec<_>>(), vec![true, false]);
    }

    #[test]
    fn streams_past_the_limit_are_left_out_with_a_reason() {
        let streams: Vec<_> = (0..10).map(|i| audio(i, "eng", 2, false)).collect();
        let plan = plan(&streams, &[], CHOICE);
        assert_eq!(plan.audio.len(), 8);
        assert_eq!(plan.notes.len(), 2);
        assert!(plan.notes[0].contains("audio stream 8") && plan.notes[0].contains("at most 8"), "{:?}", plan.notes);
    }

    #[test]
    fn text_subtitles_become_tracks_and_pictures_are_skipped() {
        let subs = [
            subtitle(0, "subrip", "eng", false),
            subtitle(1, "hdmv_pgs_subtitle", "fra", false),
            subtitle(2, "ass", "spa", true),
        ];
        let plan = plan(&[], &subs, CHOICE);
        let seen: Vec<_> = plan.subtitles.iter().map(|s| (s.id.as_str(), s.language.as_str(), s.forced)).collect();
        assert_eq!(seen, vec![("s0", "en", false), ("s2", "es", true)]);
        assert_eq!(plan.notes.len(), 1);
        assert!(plan.notes[0].contains("hdmv_pgs_subtitle"), "{:?}", plan.notes);
    }

    #[test]
    fn languages_are_hls_tags_and_unknown_ones_are_kept_clean() {
        assert_eq!(language("ger"), ("de".into(), Some("Deutsch")));
        assert_eq!(language("en"), ("en".into(), Some("English")));
        assert_eq!(language("tlh"), ("tlh".into(), None));
        assert_eq!(language("pt-BR"), ("pt-br".into(), None));
        assert_eq!(language("tlh\"x"), (String::new(), None), "no quote can reach the master");
        assert_eq!(language("-"), (String::new(), None));
        assert_eq!(language("und"), (String::new(), None));
        assert_eq!(label(Some("Director's \"cut\"\ncommentary"), None, "x".into()), "Director's 'cut'commentary");
    }
}
