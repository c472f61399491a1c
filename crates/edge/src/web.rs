//! The web app's files: inside the binary, so `ottr up` serves the app from any folder.
//! The app (`web/`) and the two npm scripts it loads (hls.js, tus-js-client) are embedded
//! by rust-embed in every build (`debug-embed`), so the tests' debug binary serves exactly
//! what a release binary ships, from any folder. For development, `edge.web_dir`,
//! `edge.hls_js` and `edge.tus_js` name files on disk to serve instead (no rebuild).

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../../web/"]
struct App;

#[derive(Embed)]
#[folder = "../../node_modules/"]
#[include = "hls.js/dist/hls.min.js"]
#[include = "tus-js-client/dist/tus.min.js"]
struct Vendor;

/// The embedded hls.js and tus-js-client, by the name the app loads them under.
pub(crate) const HLS_JS: &str = "hls.js/dist/hls.min.js";
pub(crate) const TUS_JS: &str = "tus-js-client/dist/tus.min.js";

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// An embedded file, with an ETag from its hash so browsers revalidate instead of
/// fetching it again.
fn answer(file: Option<rust_embed::EmbeddedFile>, path: &str, request: &HeaderMap) -> Response {
    let Some(file) = file else { return StatusCode::NOT_FOUND.into_response() };
    let tag: String = file.metadata.sha256_hash().iter().take(16).map(|b| format!("{b:02x}")).collect();
    let etag = HeaderValue::from_str(&format!("\"{tag}\"")).unwrap_or(HeaderValue::from_static("\"\""));
    if request.get(header::IF_NONE_MATCH) == Some(&etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type(path))),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, etag),
    ];
    (headers, Body::from(file.data.into_owned())).into_response()
}

/// A file of the app; a folder's `index.html` for a path ending in `/`.
pub(crate) fn app(uri: &Uri, request: &HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() || path.ends_with('/') { format!("{path}index.html") } else { path.to_owned() };
    answer(App::get(&path), &path, request)
}

/// hls.js or tus-js-client.
pub(crate) fn vendor(name: &'static str, request: &HeaderMap) -> Response {
    answer(Vendor::get(name), name, request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_and_its_scripts_are_in_the_binary() {
        let none = HeaderMap::new();
        let index = app(&Uri::from_static("/"), &none);
        assert_eq!(index.status(), StatusCode::OK);
        assert_eq!(index.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        for name in [HLS_JS, TUS_JS] {
            let script = vendor(name, &none);
            assert_eq!(script.status(), StatusCode::OK, "{name}");
            assert_eq!(script.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        }
        assert_eq!(app(&Uri::from_static("/no-such-file.js"), &none).status(), StatusCode::NOT_FOUND);
        let etag = index.headers()[header::ETAG].clone();
        let mut revalidating = HeaderMap::new();
        revalidating.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(app(&Uri::from_static("/"), &revalidating).status(), StatusCode::NOT_MODIFIED);
    }
}
