//! Sessions ended before their access tokens expire. An access token names its session
//! (the refresh-token family it was issued for, claim `sid`). When auth ends sessions
//! (sign-out, a reused refresh token, a password change, a disabled or deleted account) it
//! writes one short-lived key per session here; every service's verifier (built with
//! `TokenVerifier::from_settings`) asks for that key on every call, with no cache, so the
//! session's access tokens stop working at once instead of when they expire.
//!
//! Redis is never required in ottr. When it cannot answer, the check lets the token through
//! and logs a warning (at most one every 10 s): refusing would turn a cache outage
//! into an outage of every signed-in call, and what is let through is bounded by the
//! access-token lifetime (at most 15 minutes). Refresh tokens are checked in PostgreSQL, so
//! an ended session never gets a new access token either way.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use fred::prelude::{ClientLike, Expiration, KeysInterface};
use uuid::Uuid;

use crate::redis::Redis;

/// The longest quiet spell between two "cannot check" warnings.
const WARN_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Revocations {
    redis: Redis,
    /// Unix seconds of the last warning, so an outage logs a line now and then, not per call.
    warned_at: Arc<AtomicU64>,
}

impl Revocations {
    pub fn new(redis: Redis) -> Self {
        Self { redis, warned_at: Arc::default() }
    }

    fn key(&self, session: Uuid) -> String {
        self.redis.key(format_args!("revoked_session:{session}"))
    }

    /// Marks `sessions` as ended for `ttl`, which must outlast every access token they hold.
    pub async fn revoke(&self, sessions: &[Uuid], ttl: Duration) -> Result<(), fred::error::Error> {
        if sessions.is_empty() {
            return Ok(());
        }
        let seconds = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX).max(1);
        let pipeline = self.redis.client.pipeline();
        for &session in sessions {
            let () = pipeline.set(self.key(session), 1, Some(Expiration::EX(seconds)), None, false).await?;
        }
        let _: Vec<fred::types::Value> = pipeline.all().await?;
        Ok(())
    }

    /// Whether `session` was ended; `None` when Redis cannot say. A client that is not
    /// connected answers at once rather than waiting out the command timeout on every call.
    pub async fn is_revoked(&self, session: Uuid) -> Option<bool> {
        if !self.redis.client.is_connected() {
            self.warn(&"not connected");
            return None;
        }
        match self.redis.client.exists::<i64, _>(self.key(session)).await {
            Ok(found) => Some(found > 0),
            Err(error) => {
                self.warn(&error);
                None
            }
        }
    }

    fn warn(&self, error: &dyn std::fmt::Display) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let last = self.warned_at.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= WARN_EVERY.as_secs()
            && self.warned_at.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            tracing::warn!(%error, "cannot check for ended sessions in Redis; accepting access tokens unchecked");
        }
    }
}
