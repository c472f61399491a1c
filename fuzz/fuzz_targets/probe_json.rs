//! ffprobe's JSON as media reads it: whatever a hostile file makes ffprobe print must
//! end in a `SourceInfo` within the limits or a rejection, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ottr_media::{config::MediaSettings, probe};

fuzz_target!(|data: &[u8]| {
    let limits = MediaSettings::default().limits.probe_limits();
    if let Ok(info) = probe::parse(data, limits) {
        assert!(info.duration_secs > 0.0 && info.duration_secs <= limits.max_duration_secs as f64);
    }
});
