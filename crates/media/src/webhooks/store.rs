//! The webhook tables: endpoints, and deliveries as senders claim and record them. A claim
//! takes due deliveries with `FOR UPDATE SKIP LOCKED`, so senders on many instances never
//! take the same one, adds one to its attempts and leases it; a record names the attempt
//! it was claimed at, so a sender whose lease lapsed (and whose delivery another sender
//! took) changes nothing.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use ottr_proto::media::v1 as pb;

use crate::MediaError;

#[derive(sqlx::FromRow)]
pub struct EndpointRow {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub created_by: Uuid,
    pub created_at: OffsetDateTime,
}

impl From<EndpointRow> for pb::Webhook {
    fn from(row: EndpointRow) -> Self {
        pb::Webhook {
            id: row.id.to_string(),
            url: row.url,
            events: row.events,
            description: row.description,
            created_by: row.created_by.to_string(),
            created_at: row.created_at.unix_timestamp(),
        }
    }
}

pub struct NewEndpoint<'a> {
    pub url: &'a str,
    pub events: &'a [String],
    pub description: &'a str,
    pub secret: &'a str,
    pub created_by: Uuid,
}

pub async fn create(pool: &PgPool, new: &NewEndpoint<'_>) -> Result<EndpointRow, MediaError> {
    Ok(sqlx::query_as(
        "INSERT INTO webhooks.endpoints (id, url, events, description, secret, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, url, events, description, created_by, created_at",
    )
    .bind(Uuid::new_v4())
    .bind(new.url)
    .bind(new.events)
    .bind(new.description)
    .bind(new.secret)
    .bind(new.created_by)
    .fetch_one(pool)
    .await?)
}

/// Endpoints `owner` registered, or every one when `owner` is none (an admin asks).
pub async fn list(pool: &PgPool, owner: Option<Uuid>) -> Result<Vec<EndpointRow>, MediaError> {
    Ok(sqlx::query_as(
        "SELECT id, url, events, description, created_by, created_at FROM webhooks.endpoints
         WHERE $1::uuid IS NULL OR created_by = $1 ORDER BY created_at DESC, id",
    )
    .bind(owner)
    .fetch_all(pool)
    .await?)
}

/// The endpoint, if `owner` (or, when none, anyone) may see it.
pub async fn get(pool: &PgPool, id: Uuid, owner: Option<Uuid>) -> Result<EndpointRow, MediaError> {
    sqlx::query_as(
        "SELECT id, url, events, description, created_by, created_at FROM webhooks.endpoints
         WHERE id = $1 AND ($2::uuid IS NULL OR created_by = $2)",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(pool)
    .await?
    .ok_or(MediaError::NotFound("webhook"))
}

pub async fn delete(pool: &PgPool, id: Uuid, owner: Option<Uuid>) -> Result<EndpointRow, MediaError> {
    sqlx::query_as(
        "DELETE FROM webhooks.endpoints WHERE id = $1 AND ($2::uuid IS NULL OR created_by = $2)
         RETURNING id, url, events, description, created_by, created_at",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(pool)
    .await?
    .ok_or(MediaError::NotFound("webhook"))
}

#[derive(sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub state: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub delivered_at: Option<OffsetDateTime>,
    pub next_attempt_at: OffsetDateTime,
}

impl From<DeliveryRow> for pb::Delivery {
    fn from(row: DeliveryRow) -> Self {
        pb::Delivery {
            id: row.id.to_string(),
            webhook_id: row.endpoint_id.to_string(),
            event_id: row.event_id.to_string(),
            event_type: row.event_type,
            state: row.state,
            attempts: row.attempts.max(0) as u32,
            last_status: row.last_status.unwrap_or(0).max(0) as u32,
            last_error: row.last_error.unwrap_or_default(),
            created_at: row.created_at.unix_timestamp(),
            delivered_at: row.delivered_at.map_or(0, OffsetDateTime::unix_timestamp),
            next_attempt_at: row.next_attempt_at.unix_timestamp(),
        }
    }
}

/// The newest 100 deliveries to one endpoint, optionally in one state.
pub async fn deliveries(pool: &PgPool, endpoint: Uuid, state: Option<&str>) -> Result<Vec<DeliveryRow>, MediaError> {
    Ok(sqlx::query_as(
        "SELECT d.id, d.endpoint_id, d.event_id, e.type AS event_type, d.state, d.attempts, d.last_status,
                d.last_error, d.created_at, d.delivered_at, d.next_attempt_at
         FROM webhooks.deliveries d JOIN webhooks.events e ON e.id = d.event_id
         WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.state = $2)
         ORDER BY d.created_at DESC, d.id LIMIT 100",
    )
    .bind(endpoint)
    .bind(state)
    .fetch_all(pool)
    .await?)
}

/// Makes a delivery due now, with another 24 hours of retries, whatever its state.
pub async fn resend(pool: &PgPool, endpoint: Uuid, delivery: Uuid) -> Result<DeliveryRow, MediaError> {
    sqlx::query_as(
        "WITH d AS (
            UPDATE webhooks.deliveries SET state = 'pending', next_attempt_at = now(), lease_until = NULL,
                expires_at = now() + make_interval(hours => $3)
            WHERE id = $2 AND endpoint_id = $1
            RETURNING *)
         SELECT d.id, d.endpoint_id, d.event_id, e.type AS event_type, d.state, d.attempts, d.last_status,
                d.last_error, d.created_at, d.delivered_at, d.next_attempt_at
         FROM d JOIN webhooks.events e ON e.id = d.event_id",
    )
    .bind(endpoint)
    .bind(delivery)
    .bind(ottr_runtime::webhooks::RETRY_HOURS)
    .fetch_optional(pool)
    .await?
    .ok_or(MediaError::NotFound("delivery"))
}

/// One claimed delivery: what to send, where, and the attempt it was claimed at.
#[derive(sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    pub attempts: i32,
    pub url: String,
    pub secret: String,
    pub event_id: Uuid,
    pub event_type: String,
    pub data: sqlx::types::Json<serde_json::Value>,
    pub event_at: OffsetDateTime,
}

/// Claims up to `limit` due deliveries for `lease_secs`.
pub async fn claim(pool: &PgPool, limit: i64, lease_secs: i64) -> Result<Vec<Claimed>, MediaError> {
    Ok(sqlx::query_as(
        "WITH due AS (
            SELECT id FROM webhooks.deliveries
            WHERE state = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
            ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED),
         taken AS (
            UPDATE webhooks.deliveries d SET attempts = d.attempts + 1,
                lease_until = now() + make_interval(secs => $2)
            FROM due WHERE d.id = due.id
            RETURNING d.id, d.attempts, d.endpoint_id, d.event_id)
         SELECT t.id, t.attempts, p.url, p.secret, e.id AS event_id, e.type AS event_type, e.data,
                e.created_at AS event_at
         FROM taken t JOIN webhooks.endpoints p ON p.id = t.endpoint_id JOIN webhooks.events e ON e.id = t.event_id",
    )
    .bind(limit)
    .bind(lease_secs as f64)
    .fetch_all(pool)
    .await?)
}

/// How one send went.
pub struct Answer {
    /// The HTTP status, when one came.
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl Answer {
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Records a send of attempt `attempts`: delivered, or due again after `retry_ms` unless
/// that is past the delivery's expiry (then failed for good). False when the claim no
/// longer holds.
pub async fn record(
    pool: &PgPool,
    id: Uuid,
    attempts: i32,
    answer: &Answer,
    retry_ms: u64,
) -> Result<bool, MediaError> {
    let status = answer.status.map(i32::from);
    let done = if answer.delivered() {
        sqlx::query(
            "UPDATE webhooks.deliveries SET state = 'delivered', delivered_at = now(), lease_until = NULL,
                last_status = $3, last_error = NULL
             WHERE id = $1 AND attempts = $2 AND state = 'pending'",
        )
        .bind(id)
        .bind(attempts)
        .bind(status)
        .execute(pool)
        .await?
    } else {
        sqlx::query(
            "UPDATE webhooks.deliveries SET lease_until = NULL, last_status = $3, last_error = $4,
                next_attempt_at = now() + make_interval(secs => $5),
                state = CASE WHEN now() + make_interval(secs => $5) > expires_at THEN 'failed' ELSE 'pending' END
             WHERE id = $1 AND attempts = $2 AND state = 'pending'",
        )
        .bind(id)
        .bind(attempts)
        .bind(status)
        .bind(answer.error.as_deref())
        .bind(retry_ms as f64 / 1000.0)
        .execute(pool)
        .await?
    };
    Ok(done.rows_affected() == 1)
}

/// Events whose deliveries all ended more than `days` ago go, their deliveries with them.
pub async fn purge(pool: &PgPool, days: i32) -> Result<u64, MediaError> {
    Ok(sqlx::query(
        "DELETE FROM webhooks.events e WHERE e.created_at < now() - make_interval(days => $1)
           AND NOT EXISTS (SELECT 1 FROM webhooks.deliveries d WHERE d.event_id = e.id AND d.state = 'pending')",
    )
    .bind(days)
    .execute(pool)
    .await?
    .rows_affected())
}
