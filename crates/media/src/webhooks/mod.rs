//! Webhooks: endpoints editors register (`grpc`), checked so that no URL reaches into the
//! operator's own network (`target`); events written to the outbox in the transaction of
//! the change they tell of (`events` here for assets, `ottr_runtime::webhooks` for all);
//! and the senders (`send`) that every media instance runs: each claims due deliveries
//! under a lease, POSTs them signed the Standard Webhooks way (`sign`), and records the
//! answer only while its claim still holds, retrying with exponential backoff for 24 hours.
//! Delivery is at least once: a sender killed between sending and recording lets its lease
//! lapse and another sends again, with the same `webhook-id` for the receiver to drop.

pub mod events;
mod grpc;
pub mod send;
pub mod sign;
pub mod store;
pub mod target;

use serde::Deserialize;

pub(crate) use grpc::WebhookApi;

/// `OTTR__MEDIA__WEBHOOKS__*`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// Run senders in this process.
    pub send: bool,
    /// Accept `http://` endpoints (for development; production endpoints are https).
    pub allow_http: bool,
    /// Accept endpoints on loopback, private, link-local and other internal addresses.
    pub allow_private: bool,
    /// How long one send may take, connecting included.
    pub timeout_secs: u64,
    /// How long a claim holds: a sender killed mid-send has its deliveries sent by another
    /// after this. Keep it above `timeout_secs`, or a slow answer may be sent twice.
    pub lease_secs: i64,
    /// The first retry's delay; each next one doubles, up to `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Deliveries one sender claims at a time (and sends at once).
    pub batch: i64,
    /// How often an idle sender looks for due deliveries.
    pub poll_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            send: true,
            allow_http: false,
            allow_private: false,
            timeout_secs: 10,
            lease_secs: 60,
            retry_base_ms: 10_000,
            retry_max_ms: 3_600_000,
            batch: 16,
            poll_ms: 1000,
        }
    }
}

impl WebhookSettings {
    /// The delay before the retry that follows send number `attempts` (1, 2, …).
    pub fn backoff_ms(&self, attempts: i32) -> u64 {
        let doublings = (attempts.max(1) - 1).min(30) as u32;
        self.retry_base_ms.saturating_mul(1 << doublings).min(self.retry_max_ms)
    }

    pub fn policy(&self) -> target::Policy {
        target::Policy { allow_http: self.allow_http, allow_private: self.allow_private }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_doubling_up_to_the_cap() {
        let settings = WebhookSettings::default();
        let delays: Vec<u64> = (1..=11).map(|n| settings.backoff_ms(n) / 1000).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]);
        assert_eq!(settings.backoff_ms(1000), 3_600_000, "no overflow however many");
    }
}
