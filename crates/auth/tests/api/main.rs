//! The auth service through its generated gRPC client, against the real PostgreSQL
//! (a fresh database per test) and Redis (a fresh key prefix per test).

// Test code: a helper shared by the test files is `pub` to them, and an unwrap is the
// failure report.
#![allow(unreachable_pub, clippy::unwrap_used)]

mod accounts;
mod admin;
mod busy;
mod deletion;
mod device;
mod disabling;
mod helpers;
mod lookup;
mod password;
mod revocation;
mod sessions;
mod throttle;
mod tokens;
