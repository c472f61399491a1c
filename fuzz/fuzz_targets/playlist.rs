//! HLS playlists as media reads ffmpeg's output: segment lists, the init segment, codecs
//! by variant and the finished playlist, from any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ottr_media::transcode::playlist;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (_init, segments) = playlist::segments(text);
    let finished = playlist::finalize(text);
    assert!(finished.contains("#EXT-X-ENDLIST"));
    let _ = playlist::codecs_by_uri(text);
    let sizes: Vec<(u64, f64)> = segments.iter().map(|s| (s.uri.len() as u64, s.duration)).collect();
    let _ = playlist::bandwidths(&sizes);
});
