//! ottr's edge: the only public door. REST/JSON under `/api/v1` with an OpenAPI document,
//! gRPC and gRPC-web for apps, signed HLS delivery from object storage, liveness and
//! readiness, all on one port. It reaches the other
//! services only through their generated gRPC clients, passing the caller's token on.

mod caller;
mod client_ip;
pub mod config;
pub mod error;
mod grpc_proxy;
mod headers;
pub mod hls;
pub mod limits;
mod metrics;
mod playback;
mod rest;
pub mod startup;
pub mod tus;
mod upstream;
mod web;

pub use config::EdgeSettings;
pub use error::EdgeError;
pub use startup::{Application, Dependencies, StartupError};
