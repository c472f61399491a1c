//! Hot immutable objects (segments, init segments, images) kept in memory within a byte
//! budget, least recently used out first. Playlists are never cached here: they grow
//! while an asset is transcoding.
//!
//! An object is served from memory for at most `max_age` after it was read from storage.
//! A delete forgets the asset at once on the edge that relayed it ([`HotCache::forget`]);
//! every other edge instance learns of it when its copy ages out and the next read finds
//! the object gone, so a deleted (or taken-down) title stops playing everywhere within
//! `max_age` without the edges having to talk to each other.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::body::Bytes;

pub struct HotCache {
    budget: usize,
    max_age: Duration,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    used: usize,
    clock: u64,
    entries: HashMap<String, Entry>,
}

struct Entry {
    bytes: Bytes,
    /// The clock at the last use, for least-recently-used eviction.
    used: u64,
    /// When it was read from storage.
    stored_at: Instant,
}

impl HotCache {
    pub fn new(budget: usize, max_age: Duration) -> Self {
        Self { budget, max_age, inner: Mutex::default() }
    }

    /// The object, unless it is not here or older than the cache's `max_age` (then it is
    /// dropped, and the caller reads storage again).
    pub fn get(&self, key: &str) -> Option<Bytes> {
        let mut inner = self.inner.lock().expect("cache lock");
        inner.clock += 1;
        let now = inner.clock;
        let entry = inner.entries.get_mut(key)?;
        if entry.stored_at.elapsed() >= self.max_age {
            let gone = entry.bytes.len();
            inner.entries.remove(key);
            inner.used -= gone;
            return None;
        }
        entry.used = now;
        Some(entry.bytes.clone())
    }

    /// Keeps `bytes` if they fit the budget (an object over a quarter of it never does).
    pub fn put(&self, key: &str, bytes: Bytes) {
        if bytes.len() > self.budget / 4 {
            return;
        }
        let mut inner = self.inner.lock().expect("cache lock");
        inner.clock += 1;
        let now = inner.clock;
        let entry = Entry { bytes: bytes.clone(), used: now, stored_at: Instant::now() };
        if let Some(old) = inner.entries.insert(key.to_owned(), entry) {
            inner.used -= old.bytes.len();
        }
        inner.used += bytes.len();
        while inner.used > self.budget {
            let Some(oldest) = inner.entries.iter().min_by_key(|(_, entry)| entry.used).map(|(k, _)| k.clone()) else {
                break;
            };
            if let Some(gone) = inner.entries.remove(&oldest) {
                inner.used -= gone.bytes.len();
            }
        }
    }

    /// Drops every object under `prefix` (a deleted asset's).
    pub fn forget(&self, prefix: &str) {
        let mut inner = self.inner.lock().expect("cache lock");
        let gone: usize =
            inner.entries.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, entry)| entry.bytes.len()).sum();
        inner.entries.retain(|key, _| !key.starts_with(prefix));
        inner.used -= gone;
    }

    pub fn used(&self) -> usize {
        self.inner.lock().expect("cache lock").used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn the_least_recently_used_object_leaves_first_and_the_budget_holds() {
        let cache = HotCache::new(400, HOUR);
        cache.put("a", Bytes::from(vec![0; 100]));
        cache.put("b", Bytes::from(vec![0; 100]));
        cache.put("c", Bytes::from(vec![0; 100]));
        assert!(cache.get("a").is_some()); // a is now the most recent
        cache.put("d", Bytes::from(vec![0; 100]));
        cache.put("e", Bytes::from(vec![0; 100]));
        assert!(cache.get("b").is_none(), "b was the least recently used");
        assert!(cache.get("a").is_some());
        assert!(cache.used() <= 400);
        cache.put("huge", Bytes::from(vec![0; 101]));
        assert!(cache.get("huge").is_none(), "over a quarter of the budget is not kept");
    }

    #[test]
    fn a_deleted_asset_is_forgotten_and_its_bytes_freed() {
        let cache = HotCache::new(4000, HOUR);
        cache.put("hls/a/1/720p/seg_00001.m4s", Bytes::from(vec![0; 100]));
        cache.put("hls/ab/1/720p/seg_00001.m4s", Bytes::from(vec![0; 100]));
        cache.forget("hls/a/");
        assert!(cache.get("hls/a/1/720p/seg_00001.m4s").is_none());
        assert!(cache.get("hls/ab/1/720p/seg_00001.m4s").is_some(), "another asset stays");
        assert_eq!(cache.used(), 100);
    }

    #[test]
    fn an_object_older_than_the_max_age_is_read_from_storage_again() {
        // A whole second, so a loaded machine cannot age the entry out before the first read.
        let cache = HotCache::new(4000, Duration::from_secs(1));
        cache.put("hls/a/1/720p/seg_00001.m4s", Bytes::from(vec![0; 100]));
        assert!(cache.get("hls/a/1/720p/seg_00001.m4s").is_some(), "fresh: served from memory");
        std::thread::sleep(Duration::from_millis(1100));
        assert!(cache.get("hls/a/1/720p/seg_00001.m4s").is_none(), "aged out: the caller asks storage");
        assert_eq!(cache.used(), 0, "and its bytes are freed");
    }
}
