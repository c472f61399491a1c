//! The catalog through its generated gRPC clients, with a real auth service issuing the
//! tokens, against the real PostgreSQL (a database per test) and Redis (a prefix per test).

mod cache;
mod database;
mod helpers;
mod library;
mod search;
mod series;
mod titles;
