//! Hot immutable objects (segments, init segments, images) kept in memory within a byte
//! budget, least recently used out first. Playlists are never cached here: they grow
//! while an asset is transcoding.

use std::{collections::HashMap, sync::Mutex};

use axum::body::Bytes;

pub struct HotCache {
    budget: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    used: usize,
    clock: u64,
    entries: HashMap<String, (Bytes, u64)>,
}

impl HotCache {
    pub fn new(budget: usize) -> Self {
        Self { budget, inner: Mutex::default() }
    }

    pub fn get(&self, key: &str) -> Option<Bytes> {
        let mut inner = self.inner.lock().expect("cache lock");
        inner.clock += 1;
        let now = inner.clock;
        let (bytes, used) = inner.entries.get_mut(key)?;
        *used = now;
        Some(bytes.clone())
    }

    /// Keeps `bytes` if they fit the budget (an object over a quarter of it never does).
    pub fn put(&self, key: &str, bytes: Bytes) {
        if bytes.len() > self.budget / 4 {
            return;
        }
        let mut inner = self.inner.lock().expect("cache lock");
        inner.clock += 1;
        let now = inner.clock;
        if let Some((old, _)) = inner.entries.insert(key.to_owned(), (bytes.clone(), now)) {
            inner.used -= old.len();
        }
        inner.used += bytes.len();
        while inner.used > self.budget {
            let Some(oldest) = inner.entries.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone()) else {
                break;
            };
            if let Some((gone, _)) = inner.entries.remove(&oldest) {
                inner.used -= gone.len();
            }
        }
    }

    /// Drops every object under `prefix` (a deleted asset's).
    pub fn forget(&self, prefix: &str) {
        let mut inner = self.inner.lock().expect("cache lock");
        let gone: usize = inner.entries.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, (b, _))| b.len()).sum();
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

    #[test]
    fn the_least_recently_used_object_leaves_first_and_the_budget_holds() {
        let cache = HotCache::new(400);
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
        let cache = HotCache::new(4000);
        cache.put("hls/a/1/720p/seg_00001.m4s", Bytes::from(vec![0; 100]));
        cache.put("hls/ab/1/720p/seg_00001.m4s", Bytes::from(vec![0; 100]));
        cache.forget("hls/a/");
        assert!(cache.get("hls/a/1/720p/seg_00001.m4s").is_none());
        assert!(cache.get("hls/ab/1/720p/seg_00001.m4s").is_some(), "another asset stays");
        assert_eq!(cache.used(), 100);
    }
}
