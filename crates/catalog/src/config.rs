//! Settings of the catalog service.

use serde::Deserialize;

use ottr_runtime::config::ListenSettings;

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct CatalogSettings {
    pub listen: ListenSettings,
    /// How long a cached title, page or series lives. Writes invalidate at once; this
    /// bounds staleness only if an invalidation was lost while Redis was away.
    pub cache_ttl_secs: i64,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        Self { listen: ListenSettings::new("127.0.0.1", 50052), cache_ttl_secs: 300 }
    }
}
