//! Cache-aside in Redis for the hot reads: a title (by id and by slug), a listing page and
//! a series tree, stored as protobuf bytes. Writes delete what they touch and bump the
//! listing generation, so no page served after an edit predates it.
//!
//! Redis is never required. When it is disconnected the cache is skipped without a call;
//! when a call fails or is slow (short command timeout) the read falls through to
//! PostgreSQL and the failure is counted, never returned.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use fred::{
    interfaces::{ClientLike, KeysInterface},
    types::{Expiration, Key},
};
use ottr_runtime::redis::Redis;

/// Counters of what the cache did, for tests and metrics.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    /// Calls that failed or were skipped because Redis was away.
    pub errors: AtomicU64,
}

impl CacheStats {
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed), self.errors.load(Ordering::Relaxed))
    }
}

#[derive(Clone)]
pub struct Cache {
    redis: Redis,
    ttl_secs: i64,
    stats: Arc<CacheStats>,
}

impl Cache {
    pub fn new(redis: Redis, ttl_secs: i64) -> Self {
        Self { redis, ttl_secs, stats: Arc::default() }
    }

    pub fn stats(&self) -> Arc<CacheStats> {
        self.stats.clone()
    }

    pub fn title_key(&self, id: &str) -> String {
        self.redis.key(format!("catalog:title:{id}"))
    }

    pub fn slug_key(&self, slug: &str) -> String {
        self.redis.key(format!("catalog:slug:{slug}"))
    }

    pub fn series_key(&self, id: &str) -> String {
        self.redis.key(format!("catalog:series:{id}"))
    }

    fn generation_key(&self) -> String {
        self.redis.key("catalog:generation")
    }

    /// The key of a listing page under the current generation, or `None` when Redis is
    /// away (the page is then neither read from nor written to the cache).
    pub async fn page_key(&self, parts: &str) -> Option<String> {
        if !self.redis.client.is_connected() {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        match self.redis.client.get::<Option<i64>, _>(self.generation_key()).await {
            Ok(generation) => Some(self.redis.key(format!("catalog:page:{}:{parts}", generation.unwrap_or(0)))),
            Err(error) => {
                self.failed(error);
                None
            }
        }
    }

    pub async fn get<M: prost::Message + Default>(&self, key: &str) -> Option<M> {
        if !self.redis.client.is_connected() {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        match self.redis.client.get::<Option<Vec<u8>>, _>(key).await {
            Ok(Some(bytes)) => match M::decode(bytes.as_slice()) {
                Ok(message) => {
                    self.stats.hits.fetch_add(1, Ordering::Relaxed);
                    Some(message)
                }
                // A value from an older build: treat as a miss; the put overwrites it.
                Err(_) => {
                    self.stats.misses.fetch_add(1, Ordering::Relaxed);
                    None
                }
            },
            Ok(None) => {
                self.stats.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(error) => {
                self.failed(error);
                None
            }
        }
    }

    pub async fn put<M: prost::Message>(&self, key: &str, message: &M) {
        if !self.redis.client.is_connected() {
            return;
        }
        let result = self
            .redis
            .client
            .set::<(), _, _>(key, message.encode_to_vec(), Some(Expiration::EX(self.ttl_secs)), None, false)
            .await;
        if let Err(error) = result {
            self.failed(error);
        }
    }

    /// Deletes `keys` and starts a new listing generation, now and once more a moment
    /// later: a reader that fetched the old row just before the write may still put it
    /// back, and the second delete removes it. A lost invalidation (Redis away) is
    /// logged; cached entries then live at most the TTL.
    pub async fn invalidate(&self, keys: Vec<String>) {
        self.invalidate_once(&keys).await;
        let again = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            again.invalidate_once(&keys).await;
        });
    }

    async fn invalidate_once(&self, keys: &[String]) {
        let keys: Vec<Key> = keys.iter().map(|k| Key::from(k.as_str())).collect();
        let deleted = self.redis.client.del::<i64, _>(keys).await;
        let bumped = self.redis.client.incr::<i64, _>(self.generation_key()).await;
        if let Err(error) = deleted.and(bumped) {
            tracing::error!(%error, ttl_secs = self.ttl_secs, "cache invalidation lost; stale reads possible until the TTL");
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn failed(&self, error: fred::error::Error) {
        tracing::warn!(%error, "cache unavailable; reading from PostgreSQL");
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
    }
}
