//! The right to write one upload: a session advisory lock on a connection outside the
//! service's pool, so writers holding locks for the length of a PATCH never starve the
//! service's queries, and a writer that dies lets go with its connection.
//!
//! Connections are kept between requests ([`WriteLocks`]): opening one (a PostgreSQL
//! backend started per connection) took about 90 ms in `bench/upload`, a quarter of a
//! 64 MiB PATCH, while taking the lock on an open one takes a round trip. A connection
//! goes back to be kept only once its lock is let go for certain; one dropped while
//! locked (a cancelled request) or whose unlock failed is closed, and PostgreSQL lets go
//! when it notices, as when a writer's process dies.

use std::sync::{Arc, Mutex};

use sqlx::{Connection, PgConnection, PgPool, postgres::PgConnectOptions};
use uuid::Uuid;

use crate::MediaError;

/// How long a kept connection may take to answer before it is taken for dead.
const KEPT_ANSWERS_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// The connections write locks are taken on, and those kept idle between requests.
pub struct WriteLocks {
    options: PgConnectOptions,
    idle: Mutex<Vec<PgConnection>>,
    keep: usize,
}

impl WriteLocks {
    /// Connects as `pool` does; keeps up to `keep` idle connections (one per writer the
    /// process allows at once).
    pub fn new(pool: &PgPool, keep: usize) -> Arc<Self> {
        let options = (*pool.connect_options()).clone();
        Arc::new(Self { options, idle: Mutex::new(Vec::new()), keep })
    }

    /// Connections kept idle now.
    pub fn idle(&self) -> usize {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }

    fn pop(&self) -> Option<PgConnection> {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop()
    }

    /// Keeps `connection`, which holds no lock, for the next writer.
    fn put_back(&self, connection: PgConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < self.keep {
            idle.push(connection);
        }
    }
}

/// One upload's write lock, held until [`WriteLock::release`] or drop.
pub struct WriteLock {
    connection: Option<PgConnection>,
    key: i64,
    locks: Arc<WriteLocks>,
}

impl WriteLock {
    /// The lock, or `None` when another writer holds it now.
    pub async fn try_take(locks: &Arc<WriteLocks>, id: Uuid) -> Result<Option<Self>, MediaError> {
        let key = lock_key(id);
        // A kept connection may have died meanwhile (PostgreSQL restarted, or a network
        // between that dropped it without a word, which only a timeout tells): then one
        // fresh connection is tried.
        if let Some(mut connection) = locks.pop()
            && let Ok(Ok(taken)) = tokio::time::timeout(KEPT_ANSWERS_WITHIN, try_lock(&mut connection, key)).await
        {
            return Ok(Self::held(locks, connection, key, taken));
        }
        let mut connection = PgConnection::connect_with(&locks.options).await?;
        let taken = try_lock(&mut connection, key).await?;
        Ok(Self::held(locks, connection, key, taken))
    }

    fn held(locks: &Arc<WriteLocks>, connection: PgConnection, key: i64, taken: bool) -> Option<Self> {
        if !taken {
            locks.put_back(connection);
            return None;
        }
        Some(Self { connection: Some(connection), key, locks: locks.clone() })
    }

    /// Lets go now; the connection is kept for the next writer once PostgreSQL confirmed.
    pub async fn release(mut self) {
        let Some(mut connection) = self.connection.take() else { return };
        let unlock = sqlx::query_scalar("SELECT pg_advisory_unlock($1)").bind(self.key).fetch_one(&mut connection);
        let unlocked: Result<Result<bool, _>, _> = tokio::time::timeout(KEPT_ANSWERS_WITHIN, unlock).await;
        if matches!(unlocked, Ok(Ok(true))) {
            self.locks.put_back(connection);
        } else {
            let _ = connection.close().await;
        }
    }
}

// Dropped while held, the connection closes with it (never kept), and with it the lock.

async fn try_lock(connection: &mut PgConnection, key: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(key).fetch_one(connection).await
}

/// The advisory-lock key of an upload (its id's first 64 bits; uploads ids are random).
fn lock_key(id: Uuid) -> i64 {
    let (high, _) = id.as_u64_pair();
    high as i64
}
