//! The `ottr` binary as an operator runs it: migrate, create the first admin, `ottr up`,
//! then reflection, health and sign-in over gRPC. Real PostgreSQL and Redis; a database
//! of its own, dropped at the end.

mod helpers;
mod ready;
mod secret;
mod up;
