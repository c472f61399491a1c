//! tus headers from any client: each input line is `name: value`; the edge's parsing
//! must answer a value or a clean refusal.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use ottr_edge::tus;

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
        let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(line[colon + 1..].trim_ascii()))
        else {
            continue;
        };
        headers.append(name, value);
    }
    let _ = tus::header_u64(&headers, "upload-length");
    let _ = tus::header_u64(&headers, "upload-offset");
    let name = tus::filename(&headers);
    assert!(!name.is_empty());
    let _ = tus::expected_checksum(&headers);
});
