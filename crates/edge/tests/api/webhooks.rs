//! Webhooks over REST: editors register, list, read the log of (by state), resend from and
//! delete their endpoints; viewers cannot; an endpoint inside the
//! operator's network is refused with its code.

use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{json_of, spawn_stack_adjusted};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn editors_register_list_and_delete_webhooks_and_internal_urls_are_refused(pool: PgPool) {
    // The endpoint is a public address: no sender here may try to reach it. The test's
    // event waits in the outbox, pending, for the log and the resend to act on.
    let stack = spawn_stack_adjusted(pool.clone(), |_| {}, |media| media.webhooks.send = false).await;
    let viewer = stack.viewer().await;
    let hook = json!({"url": "https://93.184.216.34/ottr", "events": ["asset.ready", "title.published"]});

    let refused = stack.authed(Method::POST, "/api/v1/webhooks", &viewer).json(&hook).send().await.unwrap();
    assert_eq!(refused.status(), 403, "viewers register nothing");
    let metadata = json!({"url": "https://169.254.169.254/latest/meta-data", "events": ["asset.ready"]});
    let answer = stack.authed(Method::POST, "/api/v1/webhooks", &stack.editor).json(&metadata).send().await.unwrap();
    assert_eq!(answer.status(), 422);
    assert_eq!(answer.json::<serde_json::Value>().await.unwrap()["code"], "webhook_url_refused");

    let answer = stack.authed(Method::POST, "/api/v1/webhooks", &stack.editor).json(&hook).send().await.unwrap();
    assert_eq!(answer.status(), 201);
    let created: serde_json::Value = answer.json().await.unwrap();
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let id = created["webhook"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["webhook"]["events"], json!(["asset.ready", "title.published"]));

    let listed = json_of(stack.authed(Method::GET, "/api/v1/webhooks", &stack.editor)).await;
    assert_eq!(listed["webhooks"][0]["id"], id.as_str());
    assert!(listed["webhooks"][0].get("secret").is_none(), "the secret is shown once, at creation");
    let log = json_of(stack.authed(Method::GET, &format!("/api/v1/webhooks/{id}/deliveries"), &stack.editor)).await;
    assert_eq!(log["deliveries"], json!([]));

    let mut tx = pool.begin().await.unwrap();
    ottr_runtime::webhooks::enqueue(&mut tx, "asset.ready", json!({"asset_id": "a"})).await.unwrap();
    tx.commit().await.unwrap();
    let by_state = |state: &str| {
        let path = format!("/api/v1/webhooks/{id}/deliveries?state={state}");
        json_of(stack.authed(Method::GET, &path, &stack.editor))
    };
    let pending = by_state("pending").await;
    assert_eq!(pending["deliveries"].as_array().unwrap().len(), 1, "{pending}");
    assert_eq!(pending["deliveries"][0]["event_type"], "asset.ready");
    assert_eq!(by_state("delivered").await["deliveries"], json!([]));
    // Retries ran out; the owner sends it again.
    sqlx::query("UPDATE webhooks.deliveries SET state = 'failed', attempts = 9").execute(&pool).await.unwrap();
    assert_eq!(by_state("failed").await["deliveries"].as_array().unwrap().len(), 1);
    let delivery = pending["deliveries"][0]["id"].as_str().unwrap();
    let resend = format!("/api/v1/webhooks/{id}/deliveries/{delivery}/resend");
    let other = stack.register("other@example.org").await;
    assert_eq!(
        stack.authed(Method::POST, &resend, &other).send().await.unwrap().status(),
        403,
        "a viewer resends nothing"
    );
    let resent = stack.authed(Method::POST, &resend, &stack.editor).send().await.unwrap();
    assert_eq!(resent.status(), 202);
    assert_eq!(resent.json::<serde_json::Value>().await.unwrap()["state"], "pending");
    assert_eq!(by_state("pending").await["deliveries"].as_array().unwrap().len(), 1, "pending again");

    let path = format!("/api/v1/webhooks/{id}");
    assert_eq!(stack.authed(Method::DELETE, &path, &stack.editor).send().await.unwrap().status(), 204);
    assert_eq!(stack.authed(Method::DELETE, &path, &stack.editor).send().await.unwrap().status(), 404);
}
