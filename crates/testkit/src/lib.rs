//! Helpers that ottr's test suites and benchmarks share instead of each keeping a copy:
//! gRPC request helpers, clips generated with ffmpeg, readings of ffprobe's JSON, a real S3
//! server on a folder, and a starter for processes that announce themselves through a
//! ready file. Dev-only: used as a dev-dependency and by the bench crate, never by a service.

pub mod clip;
pub mod grpc;
pub mod probe;
pub mod process;
pub mod s3;

pub use clip::Clip;
pub use grpc::{bearer, code, login};
