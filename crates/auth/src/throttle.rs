//! Failed sign-ins counted in Redis per account and per client address over a fixed
//! window. When Redis is away the throttle lets sign-ins through and says so in the log:
//! refusing every sign-in would turn a cache outage into a full outage, and argon2's cost
//! still slows guessing down.

use std::net::IpAddr;

use fred::{prelude::KeysInterface, types::ExpireOptions};
use ottr_runtime::redis::Redis;

use crate::{AuthError, config::ThrottleSettings, domain::Email};

pub struct LoginThrottle {
    redis: Redis,
    settings: ThrottleSettings,
}

impl LoginThrottle {
    pub fn new(redis: Redis, settings: ThrottleSettings) -> Self {
        Self { redis, settings }
    }

    fn keys(&self, email: &Email, address: Option<IpAddr>) -> [(String, i64); 2] {
        let address = address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
        [
            (
                self.redis.key(format!("login_failures:account:{}", email.as_str())),
                self.settings.max_failures_per_account,
            ),
            (self.redis.key(format!("login_failures:address:{address}")), self.settings.max_failures_per_address),
        ]
    }

    /// Refuses with a retry-after when either counter is at its limit.
    pub async fn check(&self, email: &Email, address: Option<IpAddr>) -> Result<(), AuthError> {
        for (key, limit) in self.keys(email, address) {
            let count: Option<i64> = match self.redis.client.get(&key).await {
                Ok(count) => count,
                Err(error) => return self.degrade(error),
            };
            if count.unwrap_or(0) >= limit {
                let ttl: i64 = self.redis.client.ttl(&key).await.unwrap_or(self.settings.window_secs);
                return Err(AuthError::TooManyAttempts { retry_after_secs: ttl.max(1) });
            }
        }
        Ok(())
    }

    /// Counts a failure against both the account and the address.
    pub async fn record_failure(&self, email: &Email, address: Option<IpAddr>) {
        for (key, _) in self.keys(email, address) {
            let counted: Result<i64, _> = self.redis.client.incr(&key).await;
            // NX: the window starts at the first failure and is not extended by later ones.
            let expiring = match counted {
                Ok(_) => self
                    .redis
                    .client
                    .expire::<i64, _>(&key, self.settings.window_secs, Some(ExpireOptions::NX))
                    .await
                    .map(drop),
                Err(error) => Err(error),
            };
            if let Err(error) = expiring {
                let _ = self.degrade(error);
            }
        }
    }

    /// A successful sign-in clears the account's counter (not the address's).
    pub async fn record_success(&self, email: &Email) {
        let [(account, _), _] = self.keys(email, None);
        if let Err(error) = self.redis.client.del::<i64, _>(&account).await {
            let _ = self.degrade(error);
        }
    }

    fn degrade(&self, error: fred::error::Error) -> Result<(), AuthError> {
        tracing::warn!(%error, "login throttle unavailable; allowing the attempt");
        Ok(())
    }
}
