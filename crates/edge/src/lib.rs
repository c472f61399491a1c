//! ottr's edge: the only public door. REST/JSON under `/api/v1` with an OpenAPI document,
//! signed HLS delivery from object storage, liveness and readiness. It reaches the other
//! services only through their generated gRPC clients, passing the caller's token on.

pub mod config;
pub mod error;
pub mod hls;
mod rest;
pub mod startup;
mod upstream;

pub use config::EdgeSettings;
pub use error::EdgeError;
pub use startup::Application;
