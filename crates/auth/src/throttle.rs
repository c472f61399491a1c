//! Sign-in and registration attempts (and TV sign-in codes asked for, and wrong user codes
//! entered) counted in Redis per account and per client address over a fixed window. An attempt is reserved (counted) atomically *before* the slow
//! password check, so parallel guesses cannot all slip past a check made while the
//! others are still hashing. A successful sign-in gives its reservation back.
//!
//! When Redis is away the throttle lets attempts through and says so in the log: refusing
//! every sign-in would turn a cache outage into a full outage, and the bounded argon2
//! work still slows guessing down.

use std::net::IpAddr;

use fred::prelude::{KeysInterface, LuaInterface};
use ottr_runtime::redis::Redis;
use uuid::Uuid;

use crate::{AuthError, config::ThrottleSettings, domain::Email};

/// Refuses when any key is at its limit (answering its index, 1-based, and TTL), else
/// counts the attempt against every key, starting each key's window on its first count.
/// One script, so the check and the count cannot be interleaved by another attempt.
/// (Multi-key: a Redis Cluster would need the keys in one hash slot.)
const RESERVE: &str = r"
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i + 1]) then
    return {i, redis.call('TTL', key)}
  end
end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[1]) end
end
return {0, 0}
";

/// Gives back a reserved attempt, without resurrecting a key whose window ended.
const RELEASE: &str = r"
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
";

pub struct LoginThrottle {
    redis: Redis,
    settings: ThrottleSettings,
}

fn address_text(address: Option<IpAddr>) -> String {
    address.map_or_else(|| "unknown".to_owned(), |a| a.to_string())
}

impl LoginThrottle {
    pub fn new(redis: Redis, settings: ThrottleSettings) -> Self {
        Self { redis, settings }
    }

    fn account_key(&self, email: &Email) -> String {
        self.redis.key(format!("login_failures:account:{}", email.as_str()))
    }

    fn address_key(&self, address: Option<IpAddr>) -> String {
        self.redis.key(format!("login_failures:address:{}", address_text(address)))
    }

    /// Reserves one sign-in attempt for the account and the address, or refuses with a
    /// retry-after when either is at its limit.
    pub async fn reserve_login(&self, email: &Email, address: Option<IpAddr>) -> Result<(), AuthError> {
        let keys = vec![self.account_key(email), self.address_key(address)];
        let limits = [self.settings.max_failures_per_account, self.settings.max_failures_per_address];
        self.reserve(keys, &limits).await
    }

    /// Reserves one request for TV sign-in codes for the address.
    pub async fn reserve_device_code(&self, address: Option<IpAddr>) -> Result<(), AuthError> {
        let key = self.redis.key(format!("device_codes:address:{}", address_text(address)));
        self.reserve(vec![key], &[self.settings.max_device_codes_per_address]).await
    }

    fn user_code_keys(&self, user_id: Uuid, address: Option<IpAddr>) -> Vec<String> {
        vec![
            self.redis.key(format!("user_code_failures:account:{user_id}")),
            self.redis.key(format!("user_code_failures:address:{}", address_text(address))),
        ]
    }

    /// Reserves one user-code entry for the account and the address: a wrong one keeps
    /// its count, a right one gives it back ([`user_code_matched`](Self::user_code_matched)).
    pub async fn reserve_user_code(&self, user_id: Uuid, address: Option<IpAddr>) -> Result<(), AuthError> {
        let limits = [self.settings.max_wrong_user_codes_per_account, self.settings.max_wrong_user_codes_per_address];
        self.reserve(self.user_code_keys(user_id, address), &limits).await
    }

    /// A right user code: the entry is not held against the account or the address.
    pub async fn user_code_matched(&self, user_id: Uuid, address: Option<IpAddr>) {
        self.release(self.user_code_keys(user_id, address)).await;
    }

    /// Reserves one registration for the address.
    pub async fn reserve_registration(&self, address: Option<IpAddr>) -> Result<(), AuthError> {
        let key = self.redis.key(format!("registrations:address:{}", address_text(address)));
        self.reserve(vec![key], &[self.settings.max_registrations_per_address]).await
    }

    async fn reserve(&self, keys: Vec<String>, limits: &[i64]) -> Result<(), AuthError> {
        let args: Vec<i64> = std::iter::once(self.settings.window_secs).chain(limits.iter().copied()).collect();
        let answer: Result<(i64, i64), _> = self.redis.client.eval(RESERVE, keys, args).await;
        match answer {
            Ok((0, _)) => Ok(()),
            // A key with no TTL cannot exist after the script; -2 means it just expired.
            Ok((_, ttl)) => Err(AuthError::TooManyAttempts { retry_after_secs: ttl.max(1) }),
            Err(error) => self.degrade(error),
        }
    }

    /// A successful sign-in clears the account's counter and gives the address back its
    /// attempt, so only failures accumulate against an address.
    pub async fn record_success(&self, email: &Email, address: Option<IpAddr>) {
        if let Err(error) = self.redis.client.del::<i64, _>(self.account_key(email)).await {
            let _ = self.degrade(error);
        }
        self.release(vec![self.address_key(address)]).await;
    }

    /// An attempt that never reached the password check (the server was busy) is not
    /// held against anyone.
    pub async fn release_login(&self, email: &Email, address: Option<IpAddr>) {
        self.release(vec![self.account_key(email), self.address_key(address)]).await;
    }

    async fn release(&self, keys: Vec<String>) {
        let done: Result<i64, _> = self.redis.client.eval(RELEASE, keys, Vec::<i64>::new()).await;
        if let Err(error) = done {
            let _ = self.degrade(error);
        }
    }

    fn degrade(&self, error: fred::error::Error) -> Result<(), AuthError> {
        tracing::warn!(%error, "login throttle unavailable; allowing the attempt");
        Ok(())
    }
}
