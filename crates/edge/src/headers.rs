//! Security headers on every answer of the edge (web app, API, HLS): a Content Security
//! Policy that lets the web app run (its own scripts and styles only, media and hls.js's
//! worker from `blob:` URLs, no framing), `nosniff`, and no referrer, which keeps
//! playback tokens in URLs from leaking to other sites.

use axum::{
    Router,
    http::{HeaderName, HeaderValue, header},
};
use tower_http::set_header::SetResponseHeaderLayer;

/// No inline scripts or styles: the web app loads `app.js`, `style.css`, hls.js and
/// tus-js-client from here. hls.js feeds `<video>` through Media Source Extensions
/// (`blob:` media) and may run its transmuxer in a `blob:` worker. Posters may be an
/// editor's URL on another site (over https).
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob: https:; media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the headers to every response that does not set its own.
pub(crate) fn secure(router: Router) -> Router {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        .layer(set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
}
