//! Webhooks over REST: editors register, list, read the log of and delete their endpoints;
//! viewers cannot; an endpoint inside the operator's network is refused with its code.

use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{json_of, spawn_stack};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn editors_register_list_and_delete_webhooks_and_internal_urls_are_refused(pool: PgPool) {
    let stack = spawn_stack(pool).await;
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

    let path = format!("/api/v1/webhooks/{id}");
    assert_eq!(stack.authed(Method::DELETE, &path, &stack.editor).send().await.unwrap().status(), 204);
    assert_eq!(stack.authed(Method::DELETE, &path, &stack.editor).send().await.unwrap().status(), 404);
}
