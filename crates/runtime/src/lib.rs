//! What every ottr service shares: layered configuration, telemetry, graceful shutdown,
//! gRPC serving with health, reflection and request ids, the table of stable error codes,
//! connections to PostgreSQL and Redis, and verification of access tokens.

pub mod client_addr;
pub mod config;
pub mod db;
pub mod error_code;
pub mod grpc;
pub mod memory;
pub mod redis;
pub mod request_id;
pub mod service_error;
pub mod shutdown;
pub mod telemetry;
pub mod token;
pub mod webhooks;

pub use error_code::ErrorCode;
pub use service_error::{ServiceError, to_status};
