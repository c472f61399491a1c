//! The auth service through its generated gRPC client, against the real PostgreSQL
//! (a fresh database per test) and Redis (a fresh key prefix per test).

mod accounts;
mod admin;
mod busy;
mod helpers;
mod sessions;
mod throttle;
mod tokens;
