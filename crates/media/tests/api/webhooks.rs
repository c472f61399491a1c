//! Webhooks against a real HTTP receiver on 127.0.0.1 (an axum server in this process):
//! signed deliveries of real asset events, retried after a failure, resent on request,
//! given up after their window, and, when a sender is killed mid-send, sent again by
//! another with the same id and recorded once.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use ottr_media::{
    MediaSettings,
    webhooks::{WebhookSettings, send, store},
};
use ottr_proto::media::v1::{self as pb, webhook_service_client::WebhookServiceClient};
use serde_json::Value;
use sqlx::PgPool;
use tonic::transport::Channel;

use crate::helpers::{Scratch, TestApp, bearer, clip, code, spawn_app_with};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: i64,
    signature: String,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// How the receiver answers its requests, in order: `fail` of them with 500 first (or, with
/// `hang_first`, the first never answered), then 204.
#[derive(Default)]
struct Script {
    fail: usize,
    hang_first: bool,
    got: Vec<Received>,
}

type Receiver = Arc<Mutex<Script>>;

async fn hook(State(script): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (count, hang, fail) = {
        let mut script = script.lock().unwrap();
        let received = Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp").parse().unwrap_or(0),
            signature: header("webhook-signature"),
            body,
        };
        script.got.push(received);
        (script.got.len(), script.hang_first, script.fail)
    };
    if hang && count == 1 {
        std::future::pending::<()>().await;
    }
    if count <= fail { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::NO_CONTENT }
}

/// Starts a receiver; returns its state and its URL.
async fn receiver(script: Script) -> (Receiver, String) {
    let state = Arc::new(Mutex::new(script));
    let app = axum::Router::new().route("/hook", post(hook)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (state, url)
}

/// Fast retries, and loopback endpoints allowed (the receiver is one).
fn local_webhooks(settings: &mut MediaSettings) {
    settings.webhooks = WebhookSettings {
        allow_http: true,
        allow_private: true,
        retry_base_ms: 300,
        poll_ms: 50,
        timeout_secs: 2,
        lease_secs: 2,
        ..WebhookSettings::default()
    };
}

async fn webhooks(app: &TestApp) -> WebhookServiceClient<Channel> {
    WebhookServiceClient::connect(app.url.clone()).await.unwrap()
}

async fn register(app: &TestApp, url: &str, events: &[&str]) -> pb::CreatedWebhook {
    let request = pb::CreateWebhookRequest {
        url: url.into(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        description: "the test's receiver".into(),
    };
    webhooks(app).await.create_webhook(bearer(request, &app.editor)).await.unwrap().into_inner()
}

async fn deliveries(app: &TestApp, webhook: &str) -> Vec<pb::Delivery> {
    let request = pb::ListDeliveriesRequest { webhook_id: webhook.into(), state: String::new() };
    webhooks(app).await.list_deliveries(bearer(request, &app.editor)).await.unwrap().into_inner().deliveries
}

/// Waits until `done` holds of the receiver's requests (at most 30 s).
async fn until(state: &Receiver, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
    for _ in 0..300 {
        let got = state.lock().unwrap().got.clone();
        if done(&got) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the receiver got {:?}", state.lock().unwrap().got);
}

/// The signature a receiver computes by the Standard Webhooks recipe, written out here
/// apart from the sender's code.
fn expected_signature(secret: &str, received: &Received) -> String {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
    let mut signed = format!("{}.{}.", received.id, received.timestamp).into_bytes();
    signed.extend_from_slice(&received.body);
    format!("v1,{}", STANDARD.encode(aws_lc_rs::hmac::sign(&key, &signed).as_ref()))
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_receiver_hears_playable_and_ready_signed_and_a_failed_send_is_retried_with_the_same_id(pool: PgPool) {
    let app = spawn_app_with(pool, local_webhooks).await;
    let (state, url) = receiver(Script { fail: 1, ..Default::default() }).await;
    let created = register(&app, &url, &["asset.ready", "asset.playable"]).await;
    let webhook = created.webhook.unwrap();
    assert_eq!(webhook.events, ["asset.playable", "asset.ready"]);
    assert!(created.secret.starts_with("whsec_"));

    let scratch = Scratch::new();
    let source = clip(&scratch.0, "short.mp4", "testsrc2=size=320x180:rate=10:duration=2", true, &[]);
    let asset = app.upload(&source).await.unwrap();
    app.watch(&asset.job_id).await;
    // One failed send, then both events delivered.
    let got = until(&state, |got| got.len() >= 3).await;
    assert_eq!(got.len(), 3, "{got:?}");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for received in &got {
        assert_eq!(received.signature, expected_signature(&created.secret, received), "{received:?}");
        assert!((now - received.timestamp).abs() < 60, "a fresh timestamp");
        let event = received.json();
        assert_eq!(event["id"], received.id.as_str(), "webhook-id is the event's id");
        assert_eq!(event["data"]["asset_id"], asset.id.as_str());
        assert_eq!(event["data"]["filename"], "short.mp4");
    }
    let retried = got[1..].iter().filter(|r| r.id == got[0].id).count();
    assert_eq!(retried, 1, "the failed send is retried under the same id, for the receiver to drop a repeat");
    let mut types: Vec<String> = got[1..].iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
    types.sort();
    assert_eq!(types, ["asset.playable", "asset.ready"], "each event delivered once");
    let ready = got.iter().find(|r| r.json()["type"] == "asset.ready").unwrap();
    assert_eq!(ready.json()["data"]["state"], "ready");

    // The log: both delivered, one of them after two sends.
    let log = deliveries(&app, &webhook.id).await;
    let mut seen: Vec<(String, u32, u32)> = log.iter().map(|d| (d.state.clone(), d.attempts, d.last_status)).collect();
    seen.sort();
    assert_eq!(seen, [("delivered".into(), 1, 204), ("delivered".into(), 2, 204)]);

    // Resent on request: once more, the same id.
    let ready = log.iter().find(|d| d.event_type == "asset.ready").unwrap();
    let request = pb::DeliveryRef { webhook_id: webhook.id.clone(), delivery_id: ready.id.clone() };
    let resent = webhooks(&app).await.resend_delivery(bearer(request, &app.editor)).await.unwrap().into_inner();
    assert_eq!(resent.state, "pending");
    let got = until(&state, |got| got.len() >= 4).await;
    assert_eq!(got[3].id, ready.event_id);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(state.lock().unwrap().got.len(), 4, "nothing delivered is sent again unasked");

    // Viewers manage no webhooks; the endpoint's owner deletes it, its log with it.
    let request = bearer(pb::ListWebhooksRequest {}, &app.viewer);
    assert_eq!(code(&webhooks(&app).await.list_webhooks(request).await.unwrap_err()), "permission_denied");
    let request = bearer(pb::WebhookRef { id: webhook.id.clone() }, &app.editor);
    webhooks(&app).await.delete_webhook(request).await.unwrap();
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhooks.deliveries").fetch_one(&app.ctx.pool).await.unwrap();
    assert_eq!(left, 0);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_failed_transcode_and_a_deleted_asset_are_told_and_a_rolled_back_event_is_not(pool: PgPool) {
    let app = spawn_app_with(pool, |settings| {
        local_webhooks(settings);
        // A zero-second watchdog fails the transcode at its first look, for good.
        settings.worker.watchdog_secs = 0;
        settings.worker.max_attempts = 1;
    })
    .await;
    let (state, url) = receiver(Script::default()).await;
    register(&app, &url, &["asset.failed", "asset.deleted"]).await;
    let scratch = Scratch::new();
    let source = clip(&scratch.0, "doomed.mp4", "testsrc2=size=320x180:rate=10:duration=2", true, &[]);
    let asset = app.upload(&source).await.unwrap();
    assert_eq!(app.watch(&asset.job_id).await.pop().unwrap().phase, pb::Phase::Failed as i32);

    let got = until(&state, |got| !got.is_empty()).await;
    let failed = got[0].json();
    assert_eq!(failed["type"], "asset.failed", "{failed}");
    assert_eq!(failed["data"]["asset_id"], asset.id.as_str());
    assert_eq!(
        (&failed["data"]["state"], &failed["data"]["error_code"]),
        (&"failed".into(), &"transcode_failed".into())
    );

    // An event is written in its change's transaction: one rolled back leaves no delivery.
    let outbox = "SELECT count(*) FROM webhooks.deliveries";
    let before: i64 = sqlx::query_scalar(outbox).fetch_one(&app.ctx.pool).await.unwrap();
    let mut tx = app.ctx.pool.begin().await.unwrap();
    ottr_runtime::webhooks::enqueue(&mut tx, "asset.deleted", serde_json::json!({})).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(sqlx::query_scalar::<_, i64>(outbox).fetch_one(&app.ctx.pool).await.unwrap(), before);

    let delete = bearer(pb::DeleteAssetRequest { asset_id: asset.id.clone() }, &app.editor);
    app.client.clone().delete_asset(delete).await.unwrap();
    let got = until(&state, |got| got.len() >= 2).await;
    let deleted = got[1].json();
    assert_eq!(deleted["type"], "asset.deleted", "{deleted}");
    assert_eq!(deleted["data"]["asset_id"], asset.id.as_str());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(state.lock().unwrap().got.len(), 2, "each told once, the rolled-back one never");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_sender_killed_mid_send_loses_nothing_and_the_next_sends_it_once_more(pool: PgPool) {
    let app = spawn_app_with(pool, |settings| {
        local_webhooks(settings);
        settings.webhooks.send = false; // this test runs its senders itself
        settings.webhooks.timeout_secs = 30;
    })
    .await;
    let (state, url) = receiver(Script { hang_first: true, ..Default::default() }).await;
    let webhook = register(&app, &url, &["asset.deleted"]).await.webhook.unwrap();
    // The outbox, in a transaction of its own as a service's change would write it.
    let mut tx = app.ctx.pool.begin().await.unwrap();
    let data = serde_json::json!({"asset_id": "a"});
    ottr_runtime::webhooks::enqueue(&mut tx, "asset.deleted", data).await.unwrap();
    tx.commit().await.unwrap();

    let settings = app.ctx.settings.webhooks;
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let first = send::spawn(app.ctx.pool.clone(), settings, stopped.clone());
    until(&state, |got| got.len() == 1).await;
    first.abort(); // killed while the receiver holds its request
    let _ = first.await;
    let second = send::spawn(app.ctx.pool.clone(), settings, stopped);
    let got = until(&state, |got| got.len() == 2).await;
    assert_eq!(got[0].id, got[1].id, "sent again after the lease lapsed, under the same id");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    second.abort();
    assert_eq!(state.lock().unwrap().got.len(), 2, "delivered once recorded, never sent again");
    let log = deliveries(&app, &webhook.id).await;
    assert_eq!((log[0].state.as_str(), log[0].attempts), ("delivered", 2));
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_sender_whose_claim_lapsed_records_nothing_and_an_endpoint_that_keeps_failing_is_given_up(pool: PgPool) {
    let app = spawn_app_with(pool, |settings| {
        local_webhooks(settings);
        settings.webhooks.send = false;
    })
    .await;
    let (state, url) = receiver(Script { fail: usize::MAX, ..Default::default() }).await;
    register(&app, &url, &["asset.failed"]).await;
    let pool = &app.ctx.pool;
    let mut tx = pool.begin().await.unwrap();
    ottr_runtime::webhooks::enqueue(&mut tx, "asset.failed", serde_json::json!({})).await.unwrap();
    tx.commit().await.unwrap();

    // Fencing: a claim whose lease lapsed and was taken again records nothing.
    let stale = store::claim(pool, 10, 60).await.unwrap().pop().unwrap();
    sqlx::query("UPDATE webhooks.deliveries SET lease_until = now() - interval '1 second'")
        .execute(pool)
        .await
        .unwrap();
    let fresh = store::claim(pool, 10, 60).await.unwrap().pop().unwrap();
    assert_eq!((stale.attempts, fresh.attempts), (1, 2));
    let delivered = store::Answer { status: Some(200), error: None };
    assert!(!store::record(pool, stale.id, stale.attempts, &delivered, 0).await.unwrap());
    assert!(store::claim(pool, 10, 60).await.unwrap().is_empty(), "held by the fresh claim");

    // The fresh claim's send fails, and its retry would fall past the delivery's window.
    sqlx::query("UPDATE webhooks.deliveries SET lease_until = NULL, expires_at = now() + interval '1 second'")
        .execute(pool)
        .await
        .unwrap();
    let client =
        ottr_media::webhooks::target::client(app.ctx.settings.webhooks.policy(), Duration::from_secs(2)).unwrap();
    let mut settings = app.ctx.settings.webhooks;
    settings.retry_base_ms = 5000;
    assert_eq!(send::round(pool, &client, &settings).await.unwrap(), 1);
    let (state_now, status, error): (String, Option<i32>, Option<String>) =
        sqlx::query_as("SELECT state, last_status, last_error FROM webhooks.deliveries").fetch_one(pool).await.unwrap();
    assert_eq!((state_now.as_str(), status), ("failed", Some(500)));
    assert!(error.unwrap().starts_with("answered 500"));
    assert_eq!(state.lock().unwrap().got.len(), 1);
    assert_eq!(send::round(pool, &client, &settings).await.unwrap(), 0, "given up: never sent again");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn endpoints_on_internal_addresses_or_without_https_are_refused_by_default(pool: PgPool) {
    let app = spawn_app_with(pool, |_| {}).await;
    let mut client = webhooks(&app).await;
    for (url, events, expected) in [
        ("http://93.184.216.34/hook", vec!["asset.ready"], "webhook_url_refused"),
        ("https://127.0.0.1/hook", vec!["asset.ready"], "webhook_url_refused"),
        ("https://169.254.169.254/latest/meta-data", vec!["asset.ready"], "webhook_url_refused"),
        ("https://localhost:8443/hook", vec!["asset.ready"], "webhook_url_refused"),
        ("https://93.184.216.34/hook", vec![], "invalid_argument"),
        ("https://93.184.216.34/hook", vec!["asset.exploded"], "invalid_argument"),
    ] {
        let events = events.into_iter().map(String::from).collect();
        let request = pb::CreateWebhookRequest { url: url.into(), events, description: String::new() };
        let error = client.create_webhook(bearer(request, &app.editor)).await.unwrap_err();
        assert_eq!(code(&error), expected, "{url}: {error:?}");
    }
    let request = pb::CreateWebhookRequest {
        url: "https://93.184.216.34/hook".into(),
        events: vec!["title.published".into()],
        description: String::new(),
    };
    let created = client.create_webhook(bearer(request, &app.editor)).await.unwrap().into_inner();
    let listed = client.list_webhooks(bearer(pb::ListWebhooksRequest {}, &app.editor)).await.unwrap().into_inner();
    assert_eq!(listed.webhooks, vec![created.webhook.unwrap()]);
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhooks.endpoints").fetch_one(&app.ctx.pool).await.unwrap();
    assert_eq!(stored, 1, "nothing refused was kept");
}
