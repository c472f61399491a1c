//! The media service through its generated gRPC client, with real ffmpeg and ffprobe,
//! PostgreSQL (a database per test), Redis (a prefix per test), and a real S3 server
//! that checks SigV4 signatures (s3s-fs, in-process).

// Test code: a helper shared by the test files is `pub` to them, and an unwrap is the
// failure report.
#![allow(unreachable_pub, clippy::unwrap_used)]

mod helpers;
mod hostile;
mod queue;
mod storage;
mod tracks;
mod transcode;
mod uploads;
mod webhooks;
