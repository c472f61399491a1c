//! A PATCH whose whole parts go from the edge straight to the object store, so their bytes
//! cross one hop instead of two (media never carries them). Media plans each round: part
//! numbers it reserved and a presigned URL for each ([`PlanAppend`]); the edge PUTs each
//! part as the client's bytes arrive, two at most on their way, then names the stored
//! ones in an AppendUpload, which checks them against the store and records them under
//! the upload's write lock. Of two PATCHes at one offset, the first to name its parts is
//! recorded; the other is answered `409` and its parts are never recorded. Bytes that
//! make no whole part (a PATCH's last ones short of the upload's end) go through media as
//! before. When the client breaks off inside a part, or the store refuses one, or the
//! edge's memory for parts is all taken, the bytes it still holds of the parts not stored
//! and the body's rest go through media in the same AppendUpload: nothing the client sent
//! is lost, and the answer is the upload's new offset.
//!
//! [`PlanAppend`]: ottr_proto::media::v1::media_service_client::MediaServiceClient::plan_append

use std::{collections::VecDeque, sync::Arc, time::Duration};

use axum::body::{Body, BodyDataStream, Bytes};
use http::{HeaderMap, header};
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    task::JoinHandle,
};
use tokio_stream::{StreamExt, wrappers::ReceiverStream};

use ottr_proto::media::v1::{
    AppendHeader, AppendUploadRequest, PlanAppendRequest, PlannedPart, StoredPart, UploadSession,
    append_upload_request::Part,
};
use ottr_runtime::ErrorCode;
use ottr_storage::feed;

use super::relay;
use crate::{rest::Api, upstream::forward};

/// Parts on their way to the store at once: the next one's bytes arrive while the last
/// one's answer comes back.
const PARTS_IN_FLIGHT: usize = 2;

/// How long the client may send nothing before the PATCH is given up (what media allows
/// a request that streams through it, by default).
const IDLE: Duration = Duration::from_secs(60);

/// How long the store may take to answer a part once it has all of its bytes.
const STORE_ANSWER: Duration = Duration::from_secs(60);

/// How often, and after how long at first, recording a round's parts is tried again when
/// media is busy (another writer holds the upload, or media has all the writers it takes):
/// the parts are in the store, and recording them again is safe (media checks the offset).
const RECORD_ATTEMPTS: u32 = 5;
const RECORD_BACKOFF: Duration = Duration::from_millis(100);

/// What a PATCH's parts go to the store with: the HTTP client, and the memory the edge
/// holds parts in until the store answered for them (two per PATCH at most); when it is
/// all taken, a PATCH's bytes go through media instead.
#[derive(Clone)]
pub(crate) struct PartsToStore {
    pub client: reqwest::Client,
    pub memory: Arc<Semaphore>,
}

/// The PATCH body, read in pieces no longer than asked for.
struct Reader {
    body: BodyDataStream,
    pending: Option<Bytes>,
    /// Bytes the client still owes (its `Content-Length`, less what was read).
    left: u64,
    /// The body ended before its `Content-Length`, failed, or went idle.
    broken: bool,
}

impl Reader {
    /// Up to `max` of the next bytes; `None` at the body's end or once it broke.
    async fn next(&mut self, max: u64) -> Option<Bytes> {
        if self.broken || self.left == 0 || max == 0 {
            return None;
        }
        let mut chunk = match self.pending.take() {
            Some(chunk) => chunk,
            None => loop {
                match tokio::time::timeout(IDLE, self.body.next()).await {
                    Ok(Some(Ok(chunk))) if chunk.is_empty() => continue,
                    Ok(Some(Ok(chunk))) => break chunk,
                    _ => {
                        self.broken = true;
                        return None;
                    }
                }
            },
        };
        if chunk.len() as u64 > max {
            self.pending = Some(chunk.split_off(max as usize));
        }
        self.left = self.left.saturating_sub(chunk.len() as u64);
        Some(chunk)
    }
}

/// What a round of parts left: those stored (a prefix of the round) and the bytes of the
/// rest, in order, which media takes instead.
#[derive(Default)]
struct Round {
    stored: Vec<StoredPart>,
    kept: Vec<Bytes>,
    /// A part was not stored: what follows goes through media.
    failed: bool,
}

/// The PATCH being appended: which upload, with the caller's headers (forwarded to media),
/// and where its `length` bytes start.
pub(super) struct Patch<'a> {
    pub headers: &'a HeaderMap,
    pub id: String,
    pub key: String,
    pub offset: u64,
    pub length: u64,
}

/// Appends a PATCH's body, whole parts to the store and the rest through media; the
/// answer is media's last.
pub(super) async fn append(
    api: &Api,
    to_store: &PartsToStore,
    patch: Patch<'_>,
    body: Body,
) -> Result<UploadSession, tonic::Status> {
    let Patch { headers, id, key, mut offset, length } = patch;
    let mut reader = Reader { body: body.into_data_stream(), pending: None, left: length, broken: false };
    loop {
        let request = PlanAppendRequest { upload_id: id.clone(), key: key.clone(), offset, length: reader.left };
        let plan = api.upstream.media.clone().plan_append(forward(headers, request)).await?.into_inner();
        let header = |stored, length| AppendHeader {
            upload_id: id.clone(),
            key: key.clone(),
            offset,
            stored,
            length: Some(length),
            ..Default::default()
        };
        if plan.stream_first > 0 {
            // Completes the part the row's kept bytes begin; parts can follow it.
            let first = plan.stream_first.min(reader.left);
            let session =
                through_media(api, headers, header(Vec::new(), first), Vec::new(), &mut reader, first).await?;
            if reader.broken || reader.left == 0 || session.offset != offset + first {
                return Ok(session);
            }
            offset = session.offset;
            continue;
        }
        if plan.parts.is_empty() {
            let rest = reader.left;
            return through_media(api, headers, header(Vec::new(), rest), Vec::new(), &mut reader, rest).await;
        }
        let round = put_parts(to_store, plan.parts, &mut reader).await;
        if round.failed {
            // The rest of the body goes through media, after what it still holds.
            let kept: u64 = round.kept.iter().map(|bytes| bytes.len() as u64).sum();
            let rest = if reader.broken { 0 } else { reader.left };
            let header = header(round.stored, kept + rest);
            return through_media(api, headers, header, round.kept, &mut reader, rest).await;
        }
        let session = record(api, headers, header(round.stored, 0)).await?;
        if reader.left == 0 || reader.broken {
            return Ok(session);
        }
        offset = session.offset;
    }
}

/// Records a round's stored parts (an AppendUpload with no bytes of its own), trying
/// again while media is busy.
async fn record(api: &Api, headers: &HeaderMap, header: AppendHeader) -> Result<UploadSession, tonic::Status> {
    let mut attempt = 0;
    loop {
        let messages = tokio_stream::iter([AppendUploadRequest { part: Some(Part::Header(header.clone())) }]);
        match api.upstream.media.clone().append_upload(forward(headers, messages)).await {
            Err(status) if busy(&status) && attempt + 1 < RECORD_ATTEMPTS => {
                tokio::time::sleep(RECORD_BACKOFF * 2u32.pow(attempt)).await;
                attempt += 1;
            }
            answer => return Ok(answer?.into_inner()),
        }
    }
}

/// One AppendUpload: `header` (with the parts stored), then `kept` and the reader's next
/// `take` bytes as chunks, gathered into messages as a plain PATCH's are.
async fn through_media(
    api: &Api,
    headers: &HeaderMap,
    header: AppendHeader,
    kept: Vec<Bytes>,
    reader: &mut Reader,
    take: u64,
) -> Result<UploadSession, tonic::Status> {
    let (sender, chunks) = tokio::sync::mpsc::channel::<Result<Bytes, std::convert::Infallible>>(2);
    let first = AppendUploadRequest { part: Some(Part::Header(header)) };
    let messages = relay::gathered(ReceiverStream::new(chunks))
        .map(|chunk| AppendUploadRequest { part: Some(Part::Chunk(chunk)) });
    let messages = tokio_stream::iter([first]).chain(messages);
    let mut media = api.upstream.media.clone();
    let call = media.append_upload(forward(headers, messages));
    let feed = async move {
        for bytes in kept {
            if sender.send(Ok(bytes)).await.is_err() {
                return;
            }
        }
        let mut left = take;
        while let Some(bytes) = reader.next(left).await {
            left -= bytes.len() as u64;
            if sender.send(Ok(bytes)).await.is_err() {
                return; // media stopped reading: its answer says why
            }
        }
    };
    let (answer, ()) = tokio::join!(call, feed);
    Ok(answer?.into_inner())
}

/// PUTs the planned parts from the body as it arrives, stopping at the first that is not
/// stored (or that the edge has no memory left to hold); the bytes of that one and of any
/// after it are kept for media.
async fn put_parts(to_store: &PartsToStore, parts: Vec<PlannedPart>, reader: &mut Reader) -> Round {
    let mut round = Round::default();
    let mut in_flight: VecDeque<OnItsWay> = VecDeque::new();
    for part in parts {
        if in_flight.len() >= PARTS_IN_FLIGHT
            && let Some(oldest) = in_flight.pop_front()
        {
            settle(&mut round, oldest).await;
        }
        let held =
            u32::try_from(part.size).ok().and_then(|size| to_store.memory.clone().try_acquire_many_owned(size).ok());
        let (false, Some(held)) = (round.failed, held) else {
            round.failed = true; // the rest goes through media
            break;
        };
        let Some(first) = reader.next(part.size).await else {
            round.failed = true; // the body ended (or broke) on the part's start
            break;
        };
        let (sender, body) = feed::feed(part.size);
        let put = tokio::spawn(put(to_store.client.clone(), part.url.clone(), body));
        let (mut kept, mut left, mut next) = (Vec::new(), part.size, Some(first));
        while let Some(bytes) = next.take() {
            left -= bytes.len() as u64;
            kept.push(bytes.clone());
            if sender.send(bytes).await.is_err() {
                break; // the PUT ended before its bytes: it failed, and says why
            }
            next = reader.next(left).await;
        }
        // Closed short, the feed fails the PUT, and the store keeps nothing of it.
        drop(sender);
        in_flight.push_back(OnItsWay { part, put, kept, _held: held });
        if left > 0 {
            break;
        }
    }
    while let Some(oldest) = in_flight.pop_front() {
        settle(&mut round, oldest).await;
    }
    round
}

/// A part's PUT, and its bytes, kept (and counted against the edge's memory for parts)
/// until the store answered.
struct OnItsWay {
    part: PlannedPart,
    put: JoinHandle<Result<String, String>>,
    kept: Vec<Bytes>,
    _held: OwnedSemaphorePermit,
}

/// Waits for a part's PUT: stored (while none before it failed), or its bytes kept. A
/// store that takes the whole part but does not answer within [`STORE_ANSWER`] is given
/// up on; the part's number is never recorded, so a late answer changes nothing.
async fn settle(round: &mut Round, OnItsWay { part, mut put, kept, _held }: OnItsWay) {
    let whole = kept.iter().map(|bytes| bytes.len() as u64).sum::<u64>() == part.size;
    let answer = match tokio::time::timeout(STORE_ANSWER, &mut put).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => {
            put.abort();
            Err("the store did not answer".to_owned())
        }
    };
    match answer {
        Ok(etag) if whole && !round.failed => {
            round.stored.push(StoredPart { number: part.number, size: part.size, etag });
        }
        answer => {
            if let Err(reason) = answer
                && whole
            {
                tracing::warn!(part = part.number, %reason, "a part did not reach the store; media takes its bytes");
            }
            round.failed = true;
            round.kept.extend(kept);
        }
    }
}

/// One presigned UploadPart; the answer is the part's ETag.
async fn put(client: reqwest::Client, url: String, body: feed::PartFeed) -> Result<String, String> {
    let response = client.put(url).body(reqwest::Body::wrap(body)).send().await.map_err(|error| error.to_string())?;
    if !response.status().is_success() {
        return Err(format!("the store answered {}", response.status()));
    }
    let etag = response.headers().get(header::ETAG).and_then(|value| value.to_str().ok());
    etag.map(str::to_owned).ok_or_else(|| "the store named no ETag".to_owned())
}

/// Media could not take the request now, but would later.
fn busy(status: &tonic::Status) -> bool {
    matches!(ErrorCode::of(status), Some(ErrorCode::UploadBusy | ErrorCode::ServerBusy))
}
