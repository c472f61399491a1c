//! ottr's auth service (`ottr.auth.v1`): accounts and roles, argon2id passwords, EdDSA
//! access tokens with rotating published keys, refresh-token families, and login
//! throttling in Redis.

pub mod config;
pub mod domain;
pub mod error;
mod grpc;
pub mod hashing;
pub mod keys;
pub mod sessions;
pub mod startup;
mod store;
pub mod throttle;

pub use config::AuthSettings;
pub use error::AuthError;
pub use startup::{Application, Dependencies};

/// Creates an account with the given roles, for the `ottr user create` command.
pub async fn create_user(
    pool: &sqlx::PgPool,
    email: &str,
    password: &str,
    roles: &[ottr_runtime::token::Role],
) -> Result<domain::User, AuthError> {
    let email = domain::Email::parse(email)?;
    let password = domain::Password::parse(password)?;
    let roles = domain::Roles::new(roles.to_vec())?;
    let hash = domain::password::hash(password).await?;
    store::users::insert(pool, &email, &hash, &roles).await
}
