//! The auth schema's queries. Constraint violations are mapped here, where the query is made.

pub(crate) mod devices;
pub(crate) mod keys;
pub(crate) mod refresh;
pub(crate) mod users;
