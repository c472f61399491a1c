//! Every section of the settings, as one file or one set of environment variables gives them.

use serde::Deserialize;

use ottr_auth::AuthSettings;
use ottr_catalog::CatalogSettings;
use ottr_edge::EdgeSettings;
use ottr_media::MediaSettings;
use ottr_runtime::config::{DatabaseSettings, RedisSettings, TelemetrySettings, TokenSettings};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Settings {
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub telemetry: TelemetrySettings,
    pub tokens: TokenSettings,
    pub auth: AuthSettings,
    pub catalog: CatalogSettings,
    pub media: MediaSettings,
    pub edge: EdgeSettings,
}
