//! The edge over HTTP, in front of real auth, catalog and media services (PostgreSQL,
//! Redis, ffmpeg), with ffprobe as an off-the-shelf HLS client.

// Test code: a helper shared by the test files is `pub` to them, and an unwrap is the
// failure report.
#![allow(unreachable_pub, clippy::unwrap_used)]

mod account;
mod analytics;
mod browser;
mod delivery;
mod downloads;
mod episodes;
mod grpc;
mod grpc_web_js;
mod helpers;
mod limits;
mod profiles;
mod removal;
mod rest;
mod shutdown;
mod studio;
mod uploads;
mod uploads_to_store;
mod webhooks;
