//! Parsing of the tus headers a client sends (`Upload-Length`, `Upload-Offset`,
//! `Upload-Metadata`, `Upload-Checksum`): outside input, kept apart from the handlers so
//! the fuzz targets in `fuzz/` can reach it.

use axum::http::HeaderMap;
use base64::{Engine, engine::general_purpose::STANDARD};

use crate::EdgeError;

/// A header holding a non-negative integer; `None` when absent or not one.
pub fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `Upload-Metadata: filename <base64>,…`
pub fn filename(headers: &HeaderMap) -> String {
    let metadata = headers.get("upload-metadata").and_then(|v| v.to_str().ok()).unwrap_or("");
    metadata
        .split(',')
        .filter_map(|pair| pair.trim().split_once(' '))
        .find(|(key, _)| *key == "filename" || *key == "name")
        .and_then(|(_, value)| STANDARD.decode(value).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| "upload".into())
}

/// `Upload-Checksum: <algorithm> <base64 digest>` of this PATCH's bytes: the algorithm
/// (`sha1` or `sha256`) and the expected digest, which media checks as it stores the
/// bytes; `None` when the client sent no checksum.
pub fn expected_checksum(headers: &HeaderMap) -> Result<Option<(String, Vec<u8>)>, EdgeError> {
    let Some(value) = headers.get("upload-checksum").and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let (algorithm, encoded) =
        value.split_once(' ').ok_or_else(|| EdgeError::InvalidArgument("Upload-Checksum is malformed".into()))?;
    let digest_len = match algorithm {
        "sha1" => 20,
        "sha256" => 32,
        _ => return Err(EdgeError::InvalidArgument("checksum algorithms: sha1, sha256".into())),
    };
    let expected = STANDARD
        .decode(encoded.trim())
        .map_err(|_| EdgeError::InvalidArgument("Upload-Checksum is not base64".into()))?;
    if expected.len() != digest_len {
        return Err(EdgeError::InvalidArgument("Upload-Checksum has the wrong length for its algorithm".into()));
    }
    Ok(Some((algorithm.to_owned(), expected)))
}
