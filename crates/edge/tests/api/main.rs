//! The edge over HTTP, in front of real auth, catalog and media services (PostgreSQL,
//! Redis, ffmpeg), with ffprobe as an off-the-shelf HLS client.

mod browser;
mod delivery;
mod grpc;
mod grpc_web_js;
mod helpers;
mod limits;
mod rest;
mod shutdown;
mod uploads;
