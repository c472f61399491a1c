//! ottr's catalog service (`ottr.catalog.v1`): titles (movies and series with seasons and
//! episodes), publish state, browsing and ranked full-text search that forgives misspelt
//! words, per-profile watchlists, playback progress, history and continue-watching. Hot
//! reads go through a Redis cache that the catalog can always do without.

pub mod cache;
pub mod config;
pub mod domain;
pub mod error;
mod grpc;
pub mod startup;
mod store;

pub use config::{AnalyticsSettings, CatalogSettings, SearchSettings};
pub use error::CatalogError;
pub use startup::{Application, Dependencies};
