//! What every ffmpeg and ffprobe run of ottr's starts with, in one place: the base
//! arguments (no banner, never reading stdin, errors only) and the input guards, which
//! let a program read only a local file it was given, in an allowed format, within a pixel
//! limit. A playlist dressed as `.mp4` can then neither reach the network nor other files,
//! and a small image that decodes to gigabytes is refused before it is decoded.

/// The only protocol an input may use: ottr hands ffmpeg local files, never URLs.
pub const PROTOCOL_WHITELIST: &str = "file";

/// Demuxers a source may be read with (`-format_whitelist`).
pub const FORMAT_WHITELIST: &str = "mov,matroska,avi,mpegts,flv";

/// Containers accepted, as ffprobe names them in `format_name`: the same formats as
/// [`FORMAT_WHITELIST`], under the names ffprobe reports.
pub const ALLOWED_CONTAINERS: &[&str] = &["mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "mpegts", "flv"];

/// The demuxer for ottr's own intermediate images (storyboard thumbnails).
pub const IMAGE_WHITELIST: &str = "image2";

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The start of every ffmpeg command: quiet but for errors, stdin never read (a stray
/// `q` on a terminal would stop a transcode), outputs overwritten.
pub fn base_args() -> Vec<String> {
    strings(&["-hide_banner", "-nostdin", "-v", "error", "-y"])
}

/// The start of a command run for what it reports (a scanner's summary, `idet`'s counts):
/// as [`base_args`], but at the info level those reports are printed at, without stats.
pub fn report_args() -> Vec<String> {
    strings(&["-hide_banner", "-nostdin", "-v", "info", "-nostats", "-y"])
}

/// The start of every ffprobe command.
pub fn probe_base_args() -> Vec<String> {
    strings(&["-hide_banner", "-v", "error"])
}

/// The guards put before a source's `-i`: local files only, allowed containers only, and
/// at most `max_pixels` per frame.
pub fn source_guards(max_pixels: u64) -> Vec<String> {
    let mut args = strings(&["-protocol_whitelist", PROTOCOL_WHITELIST, "-format_whitelist", FORMAT_WHITELIST]);
    args.extend(["-max_pixels".to_owned(), max_pixels.to_string()]);
    args
}

/// The protocols a stored source may be read through: `file` for the local store; for a
/// presigned URL, only its own scheme's (HTTP over TCP, or HTTPS over TLS over TCP). The
/// format allow-list admits no demuxer that opens other URLs (no HLS, no concat), so the
/// one URL given is the only one read.
pub fn protocols_for(source: &ottr_storage::ReadLocation) -> &'static str {
    match source {
        ottr_storage::ReadLocation::Path(_) => PROTOCOL_WHITELIST,
        ottr_storage::ReadLocation::Url(url) if url.starts_with("https://") => "https,tls,tcp",
        ottr_storage::ReadLocation::Url(_) => "http,tcp",
    }
}

/// [`source_guards`] for a source where the store keeps it.
pub fn source_guards_for(source: &ottr_storage::ReadLocation, max_pixels: u64) -> Vec<String> {
    let mut args = source_guards(max_pixels);
    args[1] = protocols_for(source).to_owned();
    args
}

/// A source as an input: the guards, then `-i` and its path.
pub fn guarded_input(source: &std::path::Path, max_pixels: u64) -> Vec<String> {
    let mut args = source_guards(max_pixels);
    args.extend(["-i".to_owned(), source.to_string_lossy().into_owned()]);
    args
}

/// The guards put before the `-i` of ottr's own image sequence: local JPEGs only.
pub fn image_guards() -> Vec<String> {
    strings(&["-protocol_whitelist", PROTOCOL_WHITELIST, "-format_whitelist", IMAGE_WHITELIST])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after<'a>(args: &'a [String], flag: &str) -> &'a str {
        let at = args.iter().position(|a| a == flag).unwrap_or_else(|| panic!("{flag} missing"));
        &args[at + 1]
    }

    #[test]
    fn a_source_may_only_be_a_local_file_in_an_allowed_container_within_the_pixel_limit() {
        let guards = source_guards(8_294_400);
        assert_eq!(after(&guards, "-protocol_whitelist"), "file");
        assert_eq!(after(&guards, "-format_whitelist"), FORMAT_WHITELIST);
        assert_eq!(after(&guards, "-max_pixels"), "8294400");
        assert!(!FORMAT_WHITELIST.contains("hls") && !FORMAT_WHITELIST.contains("concat"));
    }

    #[test]
    fn every_allowed_container_is_read_by_an_allowed_demuxer() {
        let demuxers: Vec<&str> = FORMAT_WHITELIST.split(',').collect();
        for container in ALLOWED_CONTAINERS {
            assert!(container.split(',').any(|name| demuxers.contains(&name)), "{container}");
        }
    }

    #[test]
    fn a_stored_source_is_read_only_through_its_own_protocol() {
        use ottr_storage::ReadLocation;
        let file = source_guards_for(&ReadLocation::Path("/tmp/x.mp4".into()), 1);
        assert_eq!(after(&file, "-protocol_whitelist"), "file");
        let http = source_guards_for(&ReadLocation::Url("http://127.0.0.1:9000/b/k?X-Amz-Signature=1".into()), 1);
        assert_eq!(after(&http, "-protocol_whitelist"), "http,tcp");
        let https = source_guards_for(&ReadLocation::Url("https://s3.example/b/k".into()), 1);
        assert_eq!(after(&https, "-protocol_whitelist"), "https,tls,tcp");
        assert_eq!(after(&https, "-format_whitelist"), FORMAT_WHITELIST);
    }

    #[test]
    fn no_command_reads_stdin_or_prints_a_banner() {
        let base = base_args();
        assert!(base.contains(&"-nostdin".to_owned()) && base.contains(&"-hide_banner".to_owned()));
        assert_eq!(after(&image_guards(), "-format_whitelist"), "image2");
    }
}
