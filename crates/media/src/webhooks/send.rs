//! The senders: a loop per media process that claims due deliveries, POSTs each signed,
//! and records the answer. A send's body is the event as JSON; its `webhook-id` is the
//! event's id, the same on every retry and for every endpoint, so a receiver drops what it
//! has seen. Events whose deliveries all ended long ago are purged now and then.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::watch;

use super::{
    WebhookSettings, sign,
    store::{self, Answer, Claimed},
    target,
};
use crate::MediaError;

/// Ended events are kept this long for the delivery log.
const KEEP_DAYS: i32 = 30;

/// What a receiver's error answer is cut to in the log.
const ERROR_BYTES: usize = 300;

/// The body of a send.
pub fn body(claimed: &Claimed) -> Vec<u8> {
    let created_at = claimed.event_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let event = json!({
        "id": claimed.event_id,
        "type": claimed.event_type,
        "created_at": created_at,
        "data": claimed.data.0,
    });
    serde_json::to_vec(&event).unwrap_or_default()
}

/// One send of one claimed delivery.
async fn send(client: &reqwest::Client, settings: &WebhookSettings, claimed: &Claimed) -> Answer {
    let url = match reqwest::Url::parse(&claimed.url) {
        Ok(url) if target::literal_allowed(&url, settings.policy()) => url,
        Ok(_) => return Answer { status: None, error: Some("the endpoint is an internal address".into()) },
        Err(error) => return Answer { status: None, error: Some(format!("not a URL: {error}")) },
    };
    let body = body(claimed);
    let id = claimed.event_id.to_string();
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let request = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sign::signature(&claimed.secret, &id, timestamp, &body))
        .body(body);
    match request.send().await {
        Ok(response) if response.status().is_success() => {
            Answer { status: Some(response.status().as_u16()), error: None }
        }
        Ok(response) => {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            let cut: String = text.chars().take(ERROR_BYTES).collect();
            Answer { status: Some(status), error: Some(format!("answered {status}: {cut}")) }
        }
        Err(error) => Answer { status: None, error: Some(ottr_runtime::service_error::chain(&error)) },
    }
}

/// Claims, sends and records one batch; returns how many were claimed.
pub async fn round(pool: &PgPool, client: &reqwest::Client, settings: &WebhookSettings) -> Result<usize, MediaError> {
    let claimed = store::claim(pool, settings.batch, settings.lease_secs).await?;
    let sends = claimed.iter().map(|delivery| async move {
        let answer = send(client, settings, delivery).await;
        let retry = settings.backoff_ms(delivery.attempts);
        match store::record(pool, delivery.id, delivery.attempts, &answer, retry).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(delivery = %delivery.id, "a webhook send outlived its claim; not recorded"),
            Err(error) => {
                tracing::warn!(error = %ottr_runtime::service_error::chain(&error), "a webhook send not recorded")
            }
        }
        if let Some(error) = &answer.error {
            tracing::info!(delivery = %delivery.id, attempt = delivery.attempts, %error, "webhook not delivered");
        }
    });
    join_all(sends).await;
    Ok(claimed.len())
}

/// Sends until `stop` turns true.
pub async fn run(pool: PgPool, settings: WebhookSettings, mut stop: watch::Receiver<bool>) {
    let client = match target::client(settings.policy(), Duration::from_secs(settings.timeout_secs)) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(error = %ottr_runtime::service_error::chain(&error), "no webhook sender: the HTTP client");
            return;
        }
    };
    let mut rounds: u64 = 0;
    while !*stop.borrow() {
        // Stopping does not wait for slow receivers: a send cut short is sent again by
        // another sender once its lease lapses, as after a crash.
        let outcome = tokio::select! {
            outcome = round(&pool, &client, &settings) => outcome,
            _ = stop.changed() => break,
        };
        let claimed = match outcome {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(error = %ottr_runtime::service_error::chain(&error), "webhook round failed");
                0
            }
        };
        rounds += 1;
        if rounds % 3600 == 1
            && let Err(error) = store::purge(&pool, KEEP_DAYS).await
        {
            tracing::warn!(error = %ottr_runtime::service_error::chain(&error), "old webhook events not purged");
        }
        if claimed == 0 {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(settings.poll_ms)) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Starts the senders of this process.
pub fn spawn(pool: PgPool, settings: WebhookSettings, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(pool, settings, stop))
}
