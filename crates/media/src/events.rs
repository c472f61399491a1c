//! Job progress for any number of watchers on any media instance. Each event is stored
//! with the job (so a watcher joining late starts from the current snapshot, and the
//! service works without Redis) and published on Redis pub/sub, which every instance
//! subscribes to once and fans out in memory. Watchers also poll the stored snapshot,
//! so a lost message or a Redis outage delays an update but never loses the end.

use std::time::Duration;

use fred::{
    interfaces::{EventInterface, PubsubInterface},
    prelude::ClientLike,
};
use prost::Message as _;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use ottr_proto::media::v1::{JobEvent, Phase};
use ottr_runtime::{config::RedisSettings, redis::Redis};

use crate::{
    MediaError,
    store::jobs::{self, JobState},
};

/// How often a watcher re-reads the stored snapshot, whatever Redis does.
const POLL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Events {
    pool: PgPool,
    redis: Redis,
    hub: broadcast::Sender<JobEvent>,
}

pub fn is_terminal(phase: i32) -> bool {
    [Phase::Ready, Phase::Failed, Phase::Cancelled].map(|p| p as i32).contains(&phase)
}

fn channel(redis: &Redis) -> String {
    redis.key("media:jobs")
}

impl Events {
    /// Subscribes this instance to the job channel and starts fanning out.
    pub fn start(pool: PgPool, redis: Redis, settings: &RedisSettings) -> Result<Self, MediaError> {
        let (hub, _) = broadcast::channel(1024);
        let subscriber = Redis::subscriber(settings).map_err(MediaError::Subscribe)?;
        let mut messages = subscriber.message_rx();
        let channel = channel(&redis);
        let fan_out = hub.clone();
        tokio::spawn(async move {
            // Redis may be down at start: keep asking; once subscribed, fred resubscribes
            // after reconnects by itself.
            while let Err(error) = subscriber.subscribe(channel.clone()).await {
                tracing::debug!(%error, "progress channel not subscribed yet");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            loop {
                match messages.recv().await {
                    Ok(message) => {
                        if let Some(event) = message.value.as_bytes().and_then(|b| JobEvent::decode(b).ok()) {
                            let _ = fan_out.send(event);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Ok(Self { pool, redis, hub })
    }

    /// Stores and publishes `event` for the attempt that holds the job (`None` for
    /// events that do not come from an attempt: cancel, requeue). Returns false when the
    /// attempt was fenced off.
    pub async fn publish(&self, mut event: JobEvent, attempt: Option<i32>) -> Result<bool, MediaError> {
        let job_id: Uuid = event.job_id.parse().map_err(MediaError::EventWithoutJob)?;
        let Some(sequence) = jobs::record_progress(&self.pool, job_id, attempt, &event.encode_to_vec()).await? else {
            return Ok(false);
        };
        event.sequence = sequence as u64;
        if self.redis.client.is_connected() {
            let sent = self.redis.client.publish::<i64, _, _>(channel(&self.redis), event.encode_to_vec()).await;
            if let Err(error) = sent {
                tracing::debug!(%error, "progress not published; watchers will poll");
            }
        }
        Ok(true)
    }

    /// The current snapshot first, then every newer event, until the job ends or the
    /// watcher goes away.
    pub async fn watch(&self, job_id: Uuid) -> Result<ReceiverStream<Result<JobEvent, tonic::Status>>, MediaError> {
        let mut live = self.hub.subscribe();
        let first = self.snapshot(job_id).await?;
        let (tx, rx) = mpsc::channel(16);
        let events = self.clone();
        tokio::spawn(async move {
            let mut last = first.sequence;
            let done = is_terminal(first.phase);
            if tx.send(Ok(first)).await.is_err() || done {
                return;
            }
            let mut poll = tokio::time::interval(POLL);
            loop {
                let next = tokio::select! {
                    () = tx.closed() => return,
                    received = live.recv() => match received {
                        Ok(event) if event.job_id == job_id.to_string() => Some(event),
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => None,
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    _ = poll.tick() => events.snapshot(job_id).await.ok(),
                };
                let Some(event) = next.filter(|e| e.sequence > last) else { continue };
                last = event.sequence;
                let done = is_terminal(event.phase);
                if tx.send(Ok(event)).await.is_err() || done {
                    return;
                }
            }
        });
        Ok(ReceiverStream::new(rx))
    }

    /// The stored event, or one made from the job's state when none was stored yet.
    pub async fn snapshot(&self, job_id: Uuid) -> Result<JobEvent, MediaError> {
        let snapshot = jobs::snapshot(&self.pool, job_id).await?;
        Ok(stored_event(job_id, snapshot.asset_id, snapshot.state, snapshot.progress.as_deref(), snapshot.sequence))
    }
}

/// A job's latest event as stored, or one made from its state when none was stored yet.
pub fn stored_event(job_id: Uuid, asset_id: Uuid, state: JobState, progress: Option<&[u8]>, sequence: i64) -> JobEvent {
    let stored = progress.and_then(|bytes| JobEvent::decode(bytes).ok());
    let mut event = stored.unwrap_or_else(|| JobEvent {
        job_id: job_id.to_string(),
        asset_id: asset_id.to_string(),
        phase: Phase::from(state) as i32,
        ..Default::default()
    });
    event.sequence = sequence as u64;
    event
}
