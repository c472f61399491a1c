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
    pub search: SearchSettings,
    pub analytics: AnalyticsSettings,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        Self {
            listen: ListenSettings::new("127.0.0.1", 50052),
            cache_ttl_secs: 300,
            search: SearchSettings::default(),
            analytics: AnalyticsSettings::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default)]
pub struct SearchSettings {
    /// Misspelt words are corrected to the catalog's own words (`OTTR__CATALOG__SEARCH__FUZZY`).
    /// Off leaves the full-text search alone: bench/catalog's baseline, and a way back
    /// should corrections ever cost more than they give.
    pub fuzzy: bool,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self { fuzzy: true }
    }
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default)]
pub struct AnalyticsSettings {
    /// Position reports also count plays, viewers, watch time and completions per title and
    /// day (`OTTR__CATALOG__ANALYTICS__ENABLED`). Off records positions alone: bench/catalog's
    /// baseline for what counting costs a progress write.
    pub enabled: bool,
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        Self { enabled: true }
    }
}
