//! The webhook outbox every service writes to: an event and one delivery per endpoint that
//! wants it, in the caller's transaction, so the event is recorded exactly when the change
//! it tells of is committed, and never for a change that rolled back. Media's senders
//! deliver it (`ottr_media::webhooks`).

use sqlx::PgConnection;

/// What an endpoint may subscribe to.
pub const EVENT_TYPES: [&str; 5] =
    ["asset.playable", "asset.ready", "asset.failed", "asset.deleted", "title.published"];

/// How long a delivery is retried for before it is given up as failed.
pub const RETRY_HOURS: i32 = 24;

/// Records `kind` with `data` for every endpoint subscribed to it; nothing when none is.
pub async fn enqueue(conn: &mut PgConnection, kind: &str, data: serde_json::Value) -> sqlx::Result<()> {
    debug_assert!(EVENT_TYPES.contains(&kind), "{kind} is not an event type");
    sqlx::query(
        "WITH targets AS (SELECT id FROM webhooks.endpoints WHERE $1 = ANY(events)),
              event AS (
                INSERT INTO webhooks.events (id, type, data)
                SELECT $2, $1, $3 WHERE EXISTS (SELECT 1 FROM targets)
                RETURNING id)
         INSERT INTO webhooks.deliveries (id, endpoint_id, event_id, expires_at)
         SELECT gen_random_uuid(), t.id, e.id, now() + make_interval(hours => $4)
         FROM targets t CROSS JOIN event e",
    )
    .bind(kind)
    .bind(uuid::Uuid::new_v4())
    .bind(sqlx::types::Json(data))
    .bind(RETRY_HOURS)
    .execute(conn)
    .await?;
    Ok(())
}
