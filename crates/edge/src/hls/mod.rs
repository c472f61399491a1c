//! HLS delivery from object storage: `/hls/<token>/<attempt>/…`,
//! `/images/<token>/<attempt>/…` and `/files/<token>/<attempt>/…` (MP4 downloads), each
//! request's token checked, with the right Content-Type, Range (206), HEAD, ETag and
//! If-None-Match, and Cache-Control (long and immutable for segments, images and files,
//! short for playlists, which grow while encoding). Downloads are streamed from storage a
//! chunk at a time and never held whole in memory or in the hot cache: one is as large as
//! a rung of the whole film.

mod cache;
pub mod token;

use std::sync::Arc;

use axum::{
    body::{Body, Bytes},
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode, header},
    response::{AppendHeaders, IntoResponse, Response},
    routing::{MethodRouter, get},
};
use ottr_storage::{
    ObjectStore,
    keys::{DeliveryKey, Tree},
};

pub use cache::HotCache;
use token::Signer;

use crate::EdgeError;

pub struct Delivery {
    pub store: ObjectStore,
    pub signer: Signer,
    pub cache: HotCache,
    /// Storage reads running at once: beyond it, requests wait their turn instead of
    /// opening ever more connections to storage (or file handles and buffers).
    pub reads: Arc<tokio::sync::Semaphore>,
}

/// Whether an object never changes once written: every attempt writes under its own
/// prefix, so only playlists (rewritten while they grow) do.
fn immutable(key: &DeliveryKey) -> bool {
    !key.relative().ends_with(".m3u8")
}

/// How much of a download one storage read fetches.
const FILE_CHUNK: u64 = 8 * 1024 * 1024;

/// FNV-1a: a stable hash for ETags, the same on every edge.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` against an object of `size` bytes.
fn range(value: &str, size: u64) -> Option<(u64, u64)> {
    let spec = value.strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None; // one range only
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            (size.saturating_sub(n), size - 1)
        }
        (start, "") => (start.parse().ok()?, size - 1),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(size - 1)),
    };
    (start <= end && start < size).then_some((start, end))
}

impl Delivery {
    async fn serve(
        &self,
        tree: Tree,
        token: &str,
        rest: &str,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Response, EdgeError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let asset = self.signer.verify(token, now)?;
        let not_found = || EdgeError::NotFound("no such object");
        // The key may not climb out of the asset's folder, whatever the path says.
        let key = DeliveryKey::from_url_path(tree, asset, rest).map_err(|_| not_found())?;
        let meta = self.store.head(key.as_str()).await.map_err(EdgeError::Storage)?.ok_or_else(not_found)?;
        let etag = format!("W/\"{:x}-{:x}\"", meta.size, fnv(key.as_str()));
        let cache_control = if immutable(&key) {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=2, stale-while-revalidate=2"
        };
        let mut answer = vec![
            (header::CONTENT_TYPE, key.content_type().to_owned()),
            (header::ACCEPT_RANGES, "bytes".to_owned()),
            (header::ETAG, etag.clone()),
            (header::CACHE_CONTROL, cache_control.to_owned()),
        ];
        if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes()) {
            return Ok((StatusCode::NOT_MODIFIED, AppendHeaders(answer)).into_response());
        }
        let wanted = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
            Some(value) => Some(range(value, meta.size).ok_or(EdgeError::RangeNotSatisfiable { size: meta.size })?),
            None => None,
        };
        let length = wanted.map_or(meta.size, |(start, end)| end - start + 1);
        answer.push((header::CONTENT_LENGTH, length.to_string()));
        let mut status = StatusCode::OK;
        if let Some((start, end)) = wanted {
            status = StatusCode::PARTIAL_CONTENT;
            answer.push((header::CONTENT_RANGE, format!("bytes {start}-{end}/{}", meta.size)));
        }
        if tree == Tree::Files {
            let name = key.relative().rsplit('/').next().unwrap_or("download.mp4");
            answer.push((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{asset}-{name}\"")));
        }
        if method == Method::HEAD {
            return Ok((status, AppendHeaders(answer)).into_response());
        }
        if tree == Tree::Files {
            let (start, end) = wanted.unwrap_or((0, meta.size.saturating_sub(1)));
            return Ok((status, AppendHeaders(answer), self.chunks(key, start, end)).into_response());
        }
        let body = match (wanted, self.cache.get(key.as_str())) {
            (Some((start, end)), Some(whole)) => whole.slice(start as usize..=end as usize),
            (None, Some(whole)) => whole,
            // A range of a cold object: only those bytes come from storage, so a one-byte
            // request costs one byte, however large the object.
            (Some((start, end)), None) if end - start + 1 < meta.size => {
                let _permit = self.reads.acquire().await.map_err(|e| EdgeError::internal("waiting for a read", e))?;
                Bytes::from(self.store.get_range(key.as_str(), start, Some(end)).await.map_err(EdgeError::Storage)?)
            }
            (_, None) => self.whole(&key).await?,
        };
        Ok((status, AppendHeaders(answer), Body::from(body)).into_response())
    }

    /// Bytes `start..=end` of a download, read from storage `FILE_CHUNK` at a time as the
    /// client takes them; each read waits its turn with every other storage read.
    fn chunks(&self, key: DeliveryKey, start: u64, end: u64) -> Body {
        let (store, reads) = (self.store.clone(), self.reads.clone());
        let stream = futures_util::stream::try_unfold(start, move |at| {
            let (store, reads, key) = (store.clone(), reads.clone(), key.clone());
            async move {
                if at > end {
                    return Ok::<_, EdgeError>(None);
                }
                let last = (at + FILE_CHUNK - 1).min(end);
                let _permit = reads.acquire().await.map_err(|e| EdgeError::internal("waiting for a read", e))?;
                let bytes = store.get_range(key.as_str(), at, Some(last)).await.map_err(EdgeError::Storage)?;
                Ok(Some((Bytes::from(bytes), last + 1)))
            }
        });
        Body::from_stream(stream)
    }

    /// The whole object from storage, kept in memory when it never changes.
    async fn whole(&self, key: &DeliveryKey) -> Result<Bytes, EdgeError> {
        let permit = self.reads.acquire().await.map_err(|e| EdgeError::internal("waiting for a read", e))?;
        let bytes = Bytes::from(self.store.get_bytes(key.as_str()).await.map_err(EdgeError::Storage)?);
        drop(permit);
        if immutable(key) {
            self.cache.put(key.as_str(), bytes.clone());
        }
        Ok(bytes)
    }
}

/// GET and HEAD of `/<tree>/{token}/{*rest}`: the signed objects of one tree.
pub fn route(tree: Tree) -> MethodRouter<Arc<Delivery>> {
    get(
        move |State(delivery): State<Arc<Delivery>>,
              Path((token, rest)): Path<(String, String)>,
              method: Method,
              headers: HeaderMap| async move {
            let served = delivery.serve(tree, &token, &rest, &method, &headers).await;
            served.unwrap_or_else(IntoResponse::into_response)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::range;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(range("bytes=-100", 1000), Some((900, 999)));
        assert_eq!(range("bytes=990-2000", 1000), Some((990, 999)), "the end is clamped");
        for bad in ["bytes=1000-", "bytes=5-1", "bytes=a-b", "items=0-1", "bytes=0-1,5-6"] {
            assert_eq!(range(bad, 1000), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod reads;
