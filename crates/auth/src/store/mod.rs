//! The auth schema's queries. Constraint violations are mapped here, where the query is made.

pub mod keys;
pub mod refresh;
pub mod users;
