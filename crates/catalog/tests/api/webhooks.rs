//! `title.published` goes to the webhook outbox in the transaction that publishes: once
//! when a title becomes published, again only after it was withdrawn and published anew,
//! and not at all for other changes or without a subscribed endpoint. (Media sends it;
//! its tests cover sending.)

use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{movie, spawn_app};

/// The `title.published` events the outbox holds, as their data.
async fn published_events(pool: &PgPool) -> Vec<serde_json::Value> {
    sqlx::query_scalar::<_, sqlx::types::Json<serde_json::Value>>(
        "SELECT e.data FROM webhooks.events e JOIN webhooks.deliveries d ON d.event_id = e.id
         WHERE e.type = 'title.published' ORDER BY e.created_at",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|data| data.0)
    .collect()
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn publishing_a_title_tells_subscribed_endpoints_once_per_publication(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let before = app.published(movie("unheard", "Unheard", "")).await;
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM webhooks.events").fetch_one(&pool).await.unwrap();
    assert_eq!(none, 0, "no endpoint, no event kept");

    sqlx::query(
        "INSERT INTO webhooks.endpoints (id, url, events, secret, created_by)
         VALUES (gen_random_uuid(), 'https://hooks.example.org/in', ARRAY['title.published'], 'whsec_x', gen_random_uuid()),
                (gen_random_uuid(), 'https://other.example.org/in', ARRAY['asset.ready'], 'whsec_y', gen_random_uuid())",
    )
    .execute(&pool)
    .await
    .unwrap();
    let title = app.published(movie("the-third-man", "The Third Man", "")).await;
    let events = published_events(&pool).await;
    assert_eq!(events.len(), 1, "one delivery, to the one endpoint that wants it: {events:?}");
    assert_eq!(events[0]["title_id"], title.id.as_str());
    assert_eq!((events[0]["slug"].as_str(), events[0]["kind"].as_str()), (Some("the-third-man"), Some("movie")));

    app.set_visibility(&title.id, pb::Visibility::Published).await;
    app.set_visibility(&before.id, pb::Visibility::Unlisted).await;
    assert_eq!(published_events(&pool).await.len(), 1, "published again, or unlisted: nothing new");
    app.set_visibility(&title.id, pb::Visibility::Draft).await;
    app.set_visibility(&title.id, pb::Visibility::Published).await;
    assert_eq!(published_events(&pool).await.len(), 2, "withdrawn and published anew: told again");
}
