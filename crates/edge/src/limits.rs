//! What keeps one client from taking the edge for itself: a body size limit on JSON routes,
//! a per-address rate limit on the auth routes (`tower_governor`, keyed on the resolved
//! client address), a time limit per JSON request, and a bound on each user's open progress
//! streams. Refusals are `{ code, message }` like every other error.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::{DefaultBodyLimit, Request},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use tower_governor::{GovernorError, GovernorLayer, governor::GovernorConfigBuilder};

use crate::{EdgeError, client_ip::ClientKey};

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct LimitSettings {
    /// Largest JSON request body; uploads have their own limit (`max_upload_bytes`).
    pub json_body_bytes: usize,
    /// Auth routes (sign-in, registration, refresh, sign-out, TV sign-in) per client address: one more
    /// request allowed every `auth_period_ms`, at most `auth_burst` at once.
    pub auth_period_ms: u64,
    pub auth_burst: u32,
    /// Time for a JSON request's answer; streams (SSE, uploads, HLS) are not cut by it.
    pub request_timeout_secs: u64,
    /// Progress streams (SSE) one user may hold open at once.
    pub progress_streams_per_user: usize,
    /// Upload parts the edge holds, all PATCHes together, until the store answered for
    /// them (two parts per PATCH at most); past it, a PATCH's bytes go through media.
    pub upload_parts_mib: u64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        // A person signs in a few times a day; 20 at once and then two a second leaves
        // room for a household behind one address while stopping a script.
        Self {
            json_body_bytes: 64 * 1024,
            auth_period_ms: 500,
            auth_burst: 20,
            request_timeout_secs: 30,
            progress_streams_per_user: 8,
            upload_parts_mib: 256,
        }
    }
}

/// Axum's own refusals (body too large, timed out) are plain text; this makes them
/// `{ code, message }` so clients parse one shape.
pub async fn json_refusals(limit: usize, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE if !is_json => EdgeError::BodyTooLarge { limit }.into_response(),
        StatusCode::REQUEST_TIMEOUT if !is_json => EdgeError::TimedOut.into_response(),
        _ => response,
    }
}

/// The body limit and the timeout for JSON routes.
pub fn json_route_layers(settings: &LimitSettings) -> (DefaultBodyLimit, tower_http::timeout::TimeoutLayer) {
    let timeout = Duration::from_secs(settings.request_timeout_secs.max(1));
    (
        DefaultBodyLimit::max(settings.json_body_bytes),
        tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout),
    )
}

/// The per-address limiter of the auth routes. Its table of addresses is pruned every
/// minute, so a spray of addresses cannot grow it without bound.
pub fn auth_rate_limit(
    settings: &LimitSettings,
) -> GovernorLayer<ClientKey, governor::middleware::NoOpMiddleware, axum::body::Body> {
    let config = GovernorConfigBuilder::default()
        .period(Duration::from_millis(settings.auth_period_ms.max(1)))
        .burst_size(settings.auth_burst.max(1))
        .key_extractor(ClientKey)
        .finish()
        .expect("period and burst are positive");
    let config = Arc::new(config);
    let limiter = Arc::downgrade(config.limiter());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let Some(limiter) = limiter.upgrade() else { return };
            limiter.retain_recent();
        }
    });
    GovernorLayer::new(config).error_handler(|error| match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            EdgeError::TooManyRequests { retry_after_secs: wait_time.max(1) }.into_response()
        }
        other => EdgeError::internal("rate limiting", other).into_response(),
    })
}

/// Open progress streams per user. A [`StreamSlot`] gives its place back when dropped,
/// that is when the stream ends or the browser goes away.
#[derive(Clone, Default)]
pub struct StreamSlots {
    limit: usize,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

pub struct StreamSlot {
    user: String,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl StreamSlots {
    pub fn new(limit: usize) -> Self {
        Self { limit, open: Arc::default() }
    }

    pub fn acquire(&self, user: &str) -> Result<StreamSlot, EdgeError> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(user.to_owned()).or_default();
        if *count >= self.limit {
            return Err(EdgeError::StreamLimitReached { limit: self.limit });
        }
        *count += 1;
        Ok(StreamSlot { user: user.to_owned(), open: self.open.clone() })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StreamSlots;

    #[test]
    fn a_user_gets_a_slot_back_when_a_stream_ends() {
        let slots = StreamSlots::new(2);
        let first = slots.acquire("a").unwrap();
        let _second = slots.acquire("a").unwrap();
        assert!(slots.acquire("a").is_err());
        assert!(slots.acquire("b").is_ok());
        drop(first);
        assert!(slots.acquire("a").is_ok());
    }
}
