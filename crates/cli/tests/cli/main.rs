//! The `ottr` binary as an operator runs it: migrate, create the first admin, `ottr up`,
//! then reflection, health and sign-in over gRPC. Real PostgreSQL and Redis; a database
//! of its own, dropped at the end.

// Test code: a helper shared by the test files is `pub` to them, and an unwrap is the
// failure report.
#![allow(unreachable_pub, clippy::unwrap_used)]

mod helpers;
mod ready;
mod secret;
mod up;
mod upload;
