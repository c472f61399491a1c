//! Delivery's reads from a real (local filesystem) store: a Range request on a cold object
//! reads only the range, and reads beyond the bound wait for a turn.

use std::time::Duration;

use axum::http::{HeaderMap, Method, header};
use ottr_storage::{
    LocalStore, ObjectStore,
    keys::{AssetKeys, Tree},
};

use super::{Delivery, HotCache, token::Signer};

struct Fixture {
    delivery: Delivery,
    token: String,
    root: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A 1 MiB segment in a fresh local store, and a token for its asset.
async fn fixture(max_reads: usize) -> Fixture {
    let root = std::env::temp_dir().join(format!("ottr-edge-reads-{}", uuid::Uuid::new_v4().simple()));
    let store = ObjectStore::Local(LocalStore::new(&root));
    let asset = uuid::Uuid::new_v4();
    let key = AssetKeys::new(asset).object(Tree::Hls, 1, "720p/seg_00001.m4s").unwrap();
    store.put_bytes(key.as_str(), (0..1024 * 1024).map(|i| (i % 251) as u8).collect()).await.unwrap();
    let signer = Signer::new(&[7; 32]);
    let token = signer.sign(asset, i64::MAX / 2);
    let delivery = Delivery {
        store,
        signer,
        cache: HotCache::new(64 * 1024 * 1024, std::time::Duration::from_secs(3600)),
        reads: std::sync::Arc::new(tokio::sync::Semaphore::new(max_reads)),
    };
    Fixture { delivery, token, root }
}

async fn get(fixture: &Fixture, range: Option<&str>) -> Vec<u8> {
    let mut headers = HeaderMap::new();
    if let Some(range) = range {
        headers.insert(header::RANGE, range.parse().unwrap());
    }
    let response = fixture
        .delivery
        .serve(Tree::Hls, &fixture.token, "1/720p/seg_00001.m4s", &Method::GET, &headers)
        .await
        .unwrap();
    axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec()
}

#[tokio::test]
async fn a_range_of_a_cold_object_reads_only_the_range_and_a_whole_read_warms_the_cache() {
    let fixture = fixture(4).await;
    assert_eq!(get(&fixture, Some("bytes=1000-1001")).await, [1000 % 251, 1001 % 251].map(|b| b as u8));
    assert_eq!(fixture.delivery.cache.used(), 0, "the whole object was not loaded for two bytes");
    assert_eq!(get(&fixture, None).await.len(), 1024 * 1024);
    assert_eq!(fixture.delivery.cache.used(), 1024 * 1024, "segments are immutable, so kept hot");
    assert_eq!(get(&fixture, Some("bytes=-1")).await, [((1024 * 1024 - 1) % 251) as u8], "served from memory");
}

#[tokio::test]
async fn reads_beyond_the_bound_wait_for_a_turn() {
    let fixture = fixture(1).await;
    let held = fixture.delivery.reads.acquire().await.unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(300), get(&fixture, Some("bytes=0-0"))).await;
    assert!(waiting.is_err(), "the only read slot is taken, so the request waits");
    drop(held);
    assert_eq!(get(&fixture, Some("bytes=0-0")).await, [0]);
}
