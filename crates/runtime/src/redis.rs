//! Redis through fred: a client that never blocks start-up and gives up quickly on each
//! call, because every use of Redis in ottr can degrade when it is away.

use std::time::Duration;

use fred::prelude::{Builder, Client, ClientLike, Config, ReconnectPolicy};
use secrecy::ExposeSecret;

use crate::config::RedisSettings;

/// A connected (or connecting) client and the prefix its keys carry.
#[derive(Clone)]
pub struct Redis {
    pub client: Client,
    prefix: String,
}

impl Redis {
    /// Starts connecting in the background and returns at once: a Redis that is down at
    /// start-up is retried forever, and calls fail fast until it answers.
    pub fn connect(settings: &RedisSettings) -> Result<Self, fred::error::Error> {
        let timeout = Duration::from_millis(settings.command_timeout_ms);
        let mut config = Config::from_url(settings.url.expose_secret())?;
        // Keep trying when Redis is down at start-up too, not only after a disconnect.
        config.fail_fast = false;
        let client = Builder::from_config(config)
            .with_performance_config(|c| c.default_command_timeout = timeout)
            .with_connection_config(|c| {
                c.connection_timeout = timeout;
                c.internal_command_timeout = timeout;
                // A command is not retried on a new connection: the caller degrades instead.
                c.max_command_attempts = 1;
            })
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2))
            .build()?;
        client.connect();
        Ok(Self { client, prefix: settings.key_prefix.clone() })
    }

    /// `prefix` + `key`.
    pub fn key(&self, key: impl std::fmt::Display) -> String {
        format!("{}{key}", self.prefix)
    }
}

impl Redis {
    /// A second connection for pub/sub, with the same settings; it resubscribes by
    /// itself after a reconnect.
    pub fn subscriber(settings: &RedisSettings) -> Result<fred::clients::SubscriberClient, fred::error::Error> {
        let mut config = Config::from_url(settings.url.expose_secret())?;
        config.fail_fast = false;
        let subscriber = Builder::from_config(config)
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2))
            .build_subscriber_client()?;
        subscriber.connect();
        subscriber.manage_subscriptions();
        Ok(subscriber)
    }
}
