//! The studio's REST: every asset with its job's state and progress, paged and filtered by
//! state, and its jobs cancelled and requeued.

use reqwest::Method;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{Stack, json_of, spawn_stack};

async fn list(stack: &Stack, query: &str) -> Value {
    json_of(stack.authed(Method::GET, &format!("/api/v1/assets?{query}"), &stack.editor)).await
}

fn ids(page: &Value) -> Vec<String> {
    page["assets"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect()
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn editors_list_assets_by_state_cancel_and_requeue_their_jobs(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let ready = stack.ready(stack.clip(2)).await;
    let doomed = stack.upload(stack.hd_clip(30)).await;

    let cancel = format!("/api/v1/jobs/{}/cancel", doomed.job_id);
    let cancelled = json_of(stack.authed(Method::POST, &cancel, &stack.editor)).await;
    assert_eq!(cancelled["phase"], "cancelled", "{cancelled}");
    let again = stack.authed(Method::POST, &cancel, &stack.editor).send().await.unwrap();
    assert_eq!(again.status(), 409, "a cancelled job cannot be cancelled again");

    let every = list(&stack, "").await;
    assert_eq!(ids(&every), vec![doomed.id.clone(), ready.id.clone()], "newest first");
    let first = &every["assets"][1];
    assert_eq!(first["state"], "ready");
    assert_eq!(first["job"]["phase"], "ready");
    assert!(first["size_bytes"].as_u64().unwrap() > 0 && first["duration_secs"].as_f64().unwrap() > 1.5);
    assert!(first["created_at"].as_i64().unwrap() > 0 && first["ready_at"].as_i64().unwrap() > 0);
    assert!(!first["created_by"].as_str().unwrap().is_empty(), "who uploaded it");
    assert!(!first["renditions"].as_array().unwrap().is_empty());
    assert_eq!(ids(&list(&stack, "state=cancelled").await), vec![doomed.id.clone()]);
    assert_eq!(ids(&list(&stack, "state=ready").await), vec![ready.id.clone()]);

    // Pages of one cover every asset once.
    let page = list(&stack, "page_size=1").await;
    assert_eq!(ids(&page), vec![doomed.id.clone()]);
    let token = page["next_page_token"].as_str().unwrap();
    let next = list(&stack, &format!("page_size=1&page_token={token}")).await;
    assert_eq!(ids(&next), vec![ready.id.clone()]);
    assert_eq!(next["next_page_token"], "");

    let bad = stack.authed(Method::GET, "/api/v1/assets?state=lost", &stack.editor).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let forged = stack.authed(Method::GET, "/api/v1/assets?page_token=nope", &stack.editor).send().await.unwrap();
    assert_eq!(forged.status(), 400);
    let viewer = stack.viewer().await;
    assert_eq!(stack.authed(Method::GET, "/api/v1/assets", &viewer).send().await.unwrap().status(), 403);

    // Requeued, the cancelled job runs to ready.
    let requeued =
        json_of(stack.authed(Method::POST, &format!("/api/v1/jobs/{}/requeue", doomed.job_id), &stack.editor)).await;
    assert_eq!(requeued["phase"], "queued", "{requeued}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let mut state = String::new();
    while std::time::Instant::now() < deadline {
        let asset = json_of(stack.authed(Method::GET, &format!("/api/v1/assets/{}", doomed.id), &stack.editor)).await;
        state = asset["state"].as_str().unwrap().to_owned();
        if state == "ready" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    assert_eq!(state, "ready");
}
