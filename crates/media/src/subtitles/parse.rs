//! SubRip (`.srt`) and WebVTT (`.vtt`) files read into cues, and written back as one
//! clean WebVTT file. Everything a player will render passes through here, whether an
//! editor uploaded it or ffmpeg extracted it from the source: cue text keeps only `<b>`,
//! `<i>` and `<u>`, every other tag and SSA override (`{\an8}`) is dropped, stray `&` and
//! `<` are escaped, and STYLE, REGION and NOTE blocks are left out, so no file can carry
//! markup or CSS into the web player. Errors name the line they were found on.

use std::fmt::Write as _;

/// A file may be at most this large (a feature film's subtitles are ~100 KB).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// And hold at most this many cues.
pub const MAX_CUES: usize = 20_000;
/// Cue text longer than this is cut: a subtitle is read in a few seconds.
const MAX_CUE_CHARS: usize = 1_000;

/// One cue, times in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    /// WebVTT cue settings that were kept (`line:0 align:start`), or empty.
    pub settings: String,
    /// Sanitised cue text, lines joined by `\n`.
    pub text: String,
}

/// Why a file is not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubtitleError {
    #[error("the file is {0} bytes; at most {MAX_BYTES} are accepted")]
    TooLarge(usize),
    #[error("the file is not UTF-8 text (first bad byte at offset {0})")]
    NotText(usize),
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("the file has more than {MAX_CUES} cues")]
    TooManyCues,
    #[error("the file has no cues")]
    Empty,
}

fn at(line: usize, message: impl Into<String>) -> SubtitleError {
    SubtitleError::Line { line, message: message.into() }
}

/// How strictly cues are judged.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// An editor's file: the first bad cue is refused with its line.
    Strict,
    /// What ffmpeg took out of a source: bad cues are skipped, and cues past the limit
    /// dropped, so one broken cue does not lose a film's subtitles.
    Lenient,
}

/// Reads an `.srt` or `.vtt` file (told apart by its `WEBVTT` signature).
pub fn parse(bytes: &[u8]) -> Result<Vec<Cue>, SubtitleError> {
    read(bytes, Mode::Strict)
}

/// Reads the WebVTT ffmpeg extracted from a source, skipping the cues it cannot use.
pub fn parse_extracted(bytes: &[u8]) -> Result<Vec<Cue>, SubtitleError> {
    read(bytes, Mode::Lenient)
}

fn read(bytes: &[u8], mode: Mode) -> Result<Vec<Cue>, SubtitleError> {
    if bytes.len() > MAX_BYTES {
        return Err(SubtitleError::TooLarge(bytes.len()));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| SubtitleError::NotText(e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let is_vtt = lines.first().is_some_and(|l| l.starts_with("WEBVTT"));
    let cues = blocks(&lines, is_vtt, mode)?;
    if cues.is_empty() {
        return Err(SubtitleError::Empty);
    }
    Ok(cues)
}

/// Walks blank-line separated blocks: a cue is an optional identifier line, a timing line
/// and its text.
fn blocks(lines: &[&str], is_vtt: bool, mode: Mode) -> Result<Vec<Cue>, SubtitleError> {
    let mut cues = Vec::new();
    let mut i = 0;
    if is_vtt {
        // The header runs to the first blank line.
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
    }
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
        let block = &lines[start..i];
        let first = block[0].trim();
        if is_vtt && (first.starts_with("NOTE") || first == "STYLE" || first == "REGION") {
            continue;
        }
        let timing_at = if block[0].contains("-->") { 0 } else { 1 };
        let cue = match block.get(timing_at).filter(|l| l.contains("-->")) {
            None => {
                Err(at(start + 1, format!("expected a timing line (00:00:01,000 --> 00:00:02,500), found {first:?}")))
            }
            Some(timing) => cue(timing, &block[timing_at + 1..], is_vtt).map_err(|m| at(start + timing_at + 1, m)),
        };
        match (cue, mode) {
            (Ok(None), _) | (Err(_), Mode::Lenient) => continue,
            (Err(error), Mode::Strict) => return Err(error),
            (Ok(Some(_)), Mode::Lenient) if cues.len() == MAX_CUES => break,
            (Ok(Some(_)), Mode::Strict) if cues.len() == MAX_CUES => return Err(SubtitleError::TooManyCues),
            (Ok(Some(cue)), _) => cues.push(cue),
        }
    }
    Ok(cues)
}

/// One cue from its timing line and text lines; None when it has no text to show.
fn cue(timing: &str, text: &[&str], is_vtt: bool) -> Result<Option<Cue>, String> {
    let (start_ms, end_ms, settings) = timing_line(timing, is_vtt)?;
    if end_ms <= start_ms {
        return Err("the cue ends before it starts".into());
    }
    let text = sanitize(&text.join("\n"));
    Ok((!text.trim().is_empty()).then_some(Cue { start_ms, end_ms, settings, text }))
}

fn timing_line(line: &str, is_vtt: bool) -> Result<(u64, u64, String), String> {
    let (left, right) = line.split_once("-->").ok_or("no -->")?;
    let mut right = right.split_whitespace();
    let start = timestamp(left.trim()).ok_or_else(|| format!("{:?} is not a time", left.trim()))?;
    let end_text = right.next().ok_or("the cue has no end time")?;
    let end = timestamp(end_text).ok_or_else(|| format!("{end_text:?} is not a time"))?;
    let settings = if is_vtt { right.filter(|s| setting(s)).collect::<Vec<_>>().join(" ") } else { String::new() };
    Ok((start, end, settings))
}

/// Positioning settings are kept when they are the standard ones with plain values.
fn setting(item: &str) -> bool {
    let Some((key, value)) = item.split_once(':') else { return false };
    ["vertical", "line", "position", "size", "align"].contains(&key)
        && !value.is_empty()
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '%' | '.' | ',' | '-'))
}

/// `[hh:]mm:ss[.,]mmm` into milliseconds.
fn timestamp(text: &str) -> Option<u64> {
    let (clock, millis) = text.split_once(['.', ','])?;
    if millis.len() != 3 || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let (h, m, s) = match parts.as_slice() {
        [m, s] => (0, number(m)?, number(s)?),
        [h, m, s] => (number(h)?, number(m)?, number(s)?),
        _ => return None,
    };
    let millis: u64 = millis.parse().ok()?;
    (m < 60 && s < 60).then_some(((h * 60 + m) * 60 + s) * 1000 + millis)
}

/// Cue text a player may render: `<b>`, `<i>`, `<u>` kept, other tags and SSA overrides
/// dropped, `<` and `&` that start no tag or entity escaped.
fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match c {
            // A tag ends on its own line and within a few bytes, so a file of `<` stays linear.
            '<' => match near(rest, '>') {
                Some(end) => {
                    let tag = &rest[1..end];
                    if ["b", "i", "u", "/b", "/i", "/u"].contains(&tag.trim().to_ascii_lowercase().as_str()) {
                        out.push('<');
                        out.push_str(&tag.trim().to_ascii_lowercase());
                        out.push('>');
                    }
                    rest = &rest[end + 1..];
                    continue;
                }
                None => out.push_str("&lt;"),
            },
            '{' if rest.starts_with("{\\") => {
                if let Some(end) = near(rest, '}') {
                    rest = &rest[end + 1..];
                    continue;
                }
                out.push('{');
            }
            '&' => {
                let entity = ["&amp;", "&lt;", "&gt;", "&nbsp;", "&lrm;", "&rlm;"].iter().any(|e| rest.starts_with(e));
                out.push_str(if entity { "&" } else { "&amp;" });
            }
            // Escaped, so "-->" in a line of text cannot read as a timing line.
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    let lines: Vec<&str> = out.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
    let joined = lines.join("\n");
    match joined.char_indices().nth(MAX_CUE_CHARS) {
        Some((cut, _)) => joined[..cut].to_owned(),
        None => joined,
    }
}

/// Where `close` ends the markup that starts `text`: on the same line, within 128 bytes.
fn near(text: &str, close: char) -> Option<usize> {
    let window = &text.as_bytes()[..text.len().min(128)];
    window.iter().take_while(|&&b| b != b'\n').position(|&b| b == close as u8)
}

fn vtt_time(ms: u64) -> String {
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// The cues as a WebVTT file for HLS: `X-TIMESTAMP-MAP` ties cue time 0 to media time 0,
/// where ottr's fMP4 segments start.
pub fn to_webvtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n");
    for cue in cues {
        let _ = write!(out, "\n{} --> {}", vtt_time(cue.start_ms), vtt_time(cue.end_ms));
        if !cue.settings.is_empty() {
            let _ = write!(out, " {}", cue.settings);
        }
        let _ = write!(out, "\n{}\n", cue.text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subrip_becomes_webvtt_with_its_times() {
        let srt = "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello <i>there</i>\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nTwo\r\nlines\r\n";
        let cues = parse(srt.as_bytes()).unwrap();
        assert_eq!(cues.len(), 2);
        assert_eq!((cues[0].start_ms, cues[0].end_ms), (1000, 2500));
        let vtt = to_webvtt(&cues);
        assert!(vtt.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n"), "{vtt}");
        assert!(vtt.contains("00:00:01.000 --> 00:00:02.500\nHello <i>there</i>\n"), "{vtt}");
        assert!(vtt.contains("00:00:03.000 --> 00:00:04.000\nTwo\nlines\n"), "{vtt}");
        assert_eq!(parse(vtt.as_bytes()).unwrap(), cues, "what ottr writes reads back the same");
    }

    #[test]
    fn webvtt_keeps_positions_and_drops_styles_notes_and_unknown_settings() {
        let vtt = "\u{feff}WEBVTT - a title\nKind: captions\n\nSTYLE\n::cue { background: url(x) }\n\nNOTE a note\n\nintro\n01:02.000 --> 01:03.000 line:0 align:start onload:x\n[music]\n";
        let cues = parse(vtt.as_bytes()).unwrap();
        assert_eq!(
            cues,
            vec![Cue {
                start_ms: 62_000,
                end_ms: 63_000,
                settings: "line:0 align:start".into(),
                text: "[music]".into()
            }]
        );
        assert!(!to_webvtt(&cues).contains("url("));
    }

    #[test]
    fn markup_cannot_reach_the_player() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\n<script>alert(1)</script><b onclick=x>bold</b> {\\an8}<font color=red>A & B</font> 1 < 2\n";
        let text = &parse(srt.as_bytes()).unwrap()[0].text;
        assert_eq!(text, "alert(1)bold</b> A &amp; B 1 &lt; 2");
        assert!(!text.contains("<script") && !text.contains("onclick") && !text.contains("font"));
    }

    #[test]
    fn errors_name_the_line() {
        let bad_time = "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:61,000 --> 00:00:62,000\nbad\n";
        assert_eq!(
            parse(bad_time.as_bytes()),
            Err(SubtitleError::Line { line: 6, message: "\"00:00:61,000\" is not a time".into() })
        );
        let backwards = "WEBVTT\n\n00:05.000 --> 00:04.000\nx\n";
        assert!(matches!(parse(backwards.as_bytes()), Err(SubtitleError::Line { line: 3, .. })));
        let no_timing = "1\nhello\n";
        assert!(matches!(parse(no_timing.as_bytes()), Err(SubtitleError::Line { line: 1, .. })));
    }

    #[test]
    fn extracted_files_skip_the_cues_they_cannot_use() {
        let vtt = "WEBVTT\n\n00:01.000 --> 00:01.000\nzero length\n\n00:02.000 --> 00:03.000\nkept\n";
        assert!(parse(vtt.as_bytes()).is_err(), "an editor is told");
        let cues = parse_extracted(vtt.as_bytes()).unwrap();
        assert_eq!(cues.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), vec!["kept"]);
    }

    #[test]
    fn a_file_of_brackets_is_read_in_linear_time() {
        let hostile = format!("1\n00:00:01,000 --> 00:00:02,000\n{}\n", "<{\\".repeat(600_000));
        let cues = parse(hostile.as_bytes()).unwrap();
        assert!(cues[0].text.starts_with("&lt;{"), "{}", &cues[0].text[..20]);
    }

    #[test]
    fn empty_huge_and_binary_files_are_refused() {
        assert_eq!(parse(b"WEBVTT\n\n"), Err(SubtitleError::Empty));
        assert_eq!(parse(b""), Err(SubtitleError::Empty));
        assert!(matches!(parse(&vec![b'a'; MAX_BYTES + 1]), Err(SubtitleError::TooLarge(_))));
        assert_eq!(parse(b"1\n\xff\xfe"), Err(SubtitleError::NotText(2)));
    }

    #[test]
    fn hours_and_long_films_keep_their_times() {
        let srt = "1\n01:59:59,999 --> 02:00:01,000\nlate\n";
        let cue = &parse(srt.as_bytes()).unwrap()[0];
        assert_eq!((cue.start_ms, cue.end_ms), (7_199_999, 7_201_000));
        assert!(to_webvtt(std::slice::from_ref(cue)).contains("01:59:59.999 --> 02:00:01.000"));
    }
}
