//! The catalog through its generated gRPC clients, with a real auth service issuing the
//! tokens, against the real PostgreSQL (a database per test) and Redis (a prefix per test).

// Test code: a helper shared by the test files is `pub` to them, and an unwrap is the
// failure report.
#![allow(unreachable_pub, clippy::unwrap_used)]

mod analytics;
mod cache;
mod database;
mod helpers;
mod library;
mod profiles;
mod search;
mod series;
mod titles;
mod webhooks;
