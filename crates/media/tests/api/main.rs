//! The media service through its generated gRPC client, with real ffmpeg and ffprobe,
//! PostgreSQL (a database per test), Redis (a prefix per test), and a real S3 server
//! that checks SigV4 signatures (s3s-fs, in-process).

mod helpers;
mod hostile;
mod queue;
mod storage;
mod tracks;
mod transcode;
