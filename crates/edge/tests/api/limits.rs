//! Abuse resistance at the edge: the caller's real address reaches auth's throttle, the
//! edge's own limits (auth rate, body size, progress streams) answer with stable codes,
//! GetPlayback is staff-only through the relay, and the security headers are sent.

use ottr_proto::media::v1::{self as media_pb, media_service_client::MediaServiceClient};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{Stack, bearer, spawn_stack, spawn_stack_adjusted, spawn_stack_with};

const PASSWORD: &str = "a fine passphrase";

async fn login(stack: &Stack, email: &str, password: &str, forwarded_for: &str) -> (u16, Value) {
    let response = stack
        .http
        .post(stack.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// 60 failed sign-ins (different emails) from `spray`, then a correct one from `bystander`.
async fn spray_then_sign_in(stack: &Stack, spray: &str, bystander: &str) -> (Vec<u16>, u16) {
    let mut statuses = Vec::new();
    for i in 0..60 {
        statuses.push(login(stack, &format!("spray{i}@example.org"), "wrong password", spray).await.0);
    }
    (statuses, login(stack, "editor@example.org", PASSWORD, bystander).await.0)
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn failed_sign_ins_from_one_address_do_not_lock_out_another(pool: PgPool) {
    // The edge's own rate limit is lifted so the failures reach auth's per-address throttle.
    let stack = spawn_stack_with(pool, |edge| edge.limits.auth_burst = 1000).await;
    // The test's loopback peer is a trusted proxy by default, so X-Forwarded-For counts.
    let (spray, bystander) = spray_then_sign_in(&stack, "203.0.113.10", "203.0.113.20").await;
    assert!(spray.contains(&429), "auth throttled the spraying address: {spray:?}");
    assert_eq!(bystander, 200, "another address signs in");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn forwarded_for_from_an_untrusted_peer_is_ignored(pool: PgPool) {
    let stack = spawn_stack_with(pool, |edge| {
        edge.limits.auth_burst = 1000;
        edge.network.trusted_proxies.clear();
    })
    .await;
    // Both "addresses" are the same untrusted peer, so the spray throttles the bystander.
    let (_, bystander) = spray_then_sign_in(&stack, "203.0.113.10", "203.0.113.20").await;
    assert_eq!(bystander, 429);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn the_auth_routes_are_rate_limited_per_client_address(pool: PgPool) {
    let stack = spawn_stack_with(pool, |edge| {
        edge.limits.auth_burst = 3;
        edge.limits.auth_period_ms = 60_000;
    })
    .await;
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(login(&stack, "nobody@example.org", "wrong password", "198.51.100.1").await);
    }
    assert_eq!(answers.iter().map(|a| a.0).collect::<Vec<_>>(), [401, 401, 401, 429]);
    assert_eq!(answers[3].1["code"], "too_many_requests");
    let response = stack
        .http
        .post(stack.url("/api/v1/auth/login"))
        .header("x-forwarded-for", "198.51.100.1")
        .json(&json!({"email": "nobody@example.org", "password": "x"}))
        .send()
        .await
        .unwrap();
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(login(&stack, "editor@example.org", PASSWORD, "198.51.100.2").await.0, 200, "another address");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_json_body_over_the_limit_is_refused_with_a_code(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let huge = json!({"email": "a@example.org", "password": "x".repeat(100 * 1024)});
    let response = stack.http.post(stack.url("/api/v1/auth/register")).json(&huge).send().await.unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "body_too_large");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_user_holds_at_most_the_configured_number_of_progress_streams(pool: PgPool) {
    // No worker: the job stays queued, so its progress stream stays open.
    let stack = spawn_stack_adjusted(
        pool,
        |edge| edge.limits.progress_streams_per_user = 1,
        |media| media.worker.enabled = false,
    )
    .await;
    let asset = stack.upload(stack.clip(1)).await;
    let events = stack.url(&format!("/api/v1/jobs/{}/events", asset.job_id));
    let first = stack.http.get(&events).bearer_auth(&stack.editor).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let second = stack.http.get(&events).bearer_auth(&stack.editor).send().await.unwrap();
    assert_eq!(second.status(), 429);
    assert_eq!(second.json::<Value>().await.unwrap()["code"], "stream_limit_reached");
    drop(first);
    // The slot comes back once the edge notices the first stream is gone.
    let mut again = 0;
    for _ in 0..50 {
        again = stack.http.get(&events).bearer_auth(&stack.editor).send().await.unwrap().status().as_u16();
        if again == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(again, 200);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn get_playback_through_the_relay_is_for_staff_only(pool: PgPool) {
    let stack = spawn_stack_adjusted(pool, |_| {}, |media| media.worker.enabled = false).await;
    let asset = stack.upload(stack.clip(1)).await;
    let viewer = stack.viewer().await;
    let mut media = MediaServiceClient::connect(stack.edge.clone()).await.unwrap();
    let ask = |token: &str| bearer(media_pb::GetPlaybackRequest { asset_id: asset.id.clone() }, token);
    let refused = media.get_playback(ask(&viewer)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    // The editor is let through to media, which answers for the asset (not playable yet).
    let answered = media.get_playback(ask(&stack.editor)).await.unwrap_err();
    assert_eq!(answered.code(), tonic::Code::NotFound, "{answered:?}");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn the_web_app_and_the_api_carry_security_headers(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    for path in ["/", "/app.js", "/api/v1/openapi.json"] {
        let response = stack.http.get(stack.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn metrics_move_to_the_internal_address_when_one_is_set(pool: PgPool) {
    let stack = spawn_stack_with(pool, |edge| {
        edge.metrics_listen = Some(ottr_runtime::config::ListenSettings::new("127.0.0.1", 0));
    })
    .await;
    let internal = format!("http://127.0.0.1:{}/metrics", stack.metrics_port.unwrap());
    let response = stack.http.get(internal).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("# TYPE"));
    assert_eq!(stack.http.get(stack.url("/metrics")).send().await.unwrap().status(), 404);
}
