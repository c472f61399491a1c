//! Queries on `auth.users`.

use ottr_runtime::token::Role;
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    AuthError,
    domain::{Email, Roles, User},
};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    roles: Vec<String>,
    created_at: OffsetDateTime,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        // The check constraint allows only known names.
        let roles = row.roles.iter().filter_map(|r| Role::parse(r)).collect();
        User { id: row.id, email: row.email, roles, created_at: row.created_at }
    }
}

/// The columns of [`UserRow`], spliced into literal queries.
macro_rules! columns {
    () => {
        "id, email, roles, created_at"
    };
}

pub(crate) async fn insert(
    pool: &PgPool,
    email: &Email,
    password_hash: &str,
    roles: &Roles,
) -> Result<User, AuthError> {
    let query = concat!(
        "INSERT INTO auth.users (id, email, password_hash, roles) VALUES ($1, $2, $3, $4) RETURNING ",
        columns!()
    );
    sqlx::query_as::<_, UserRow>(query)
        .bind(Uuid::new_v4())
        .bind(email.as_str())
        .bind(password_hash)
        .bind(roles.names())
        .fetch_one(pool)
        .await
        .map(User::from)
        .map_err(|error| match &error {
            sqlx::Error::Database(db) if db.constraint() == Some("users_email_key") => AuthError::EmailTaken,
            _ => error.into(),
        })
}

/// Whether an account has this email, for registration.
pub(crate) async fn email_exists(pool: &PgPool, email: &Email) -> Result<bool, AuthError> {
    let exists = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM auth.users WHERE email = $1)")
        .bind(email.as_str())
        .fetch_one(pool)
        .await?;
    Ok(exists)
}

/// The user and its password hash, for sign-in.
pub(crate) async fn find_credentials(pool: &PgPool, email: &Email) -> Result<Option<(User, String)>, AuthError> {
    let query = concat!("SELECT ", columns!(), ", password_hash FROM auth.users WHERE email = $1");
    let row = sqlx::query_as::<_, (Uuid, String, Vec<String>, OffsetDateTime, String)>(query)
        .bind(email.as_str())
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|(id, email, roles, created_at, hash)| (UserRow { id, email, roles, created_at }.into(), hash)))
}

pub(crate) async fn get(executor: impl PgExecutor<'_>, id: Uuid) -> Result<User, AuthError> {
    let query = concat!("SELECT ", columns!(), " FROM auth.users WHERE id = $1");
    sqlx::query_as::<_, UserRow>(query)
        .bind(id)
        .fetch_optional(executor)
        .await?
        .map(User::from)
        .ok_or(AuthError::UserNotFound)
}

/// Oldest first, `limit` users after the user `after` (keyset pagination, stable while
/// accounts are added).
pub(crate) async fn list(pool: &PgPool, after: Option<Uuid>, limit: i64) -> Result<Vec<User>, AuthError> {
    let query = concat!(
        "SELECT ",
        columns!(),
        " FROM auth.users
         WHERE $1::uuid IS NULL
            OR (created_at, id) > (SELECT created_at, id FROM auth.users WHERE id = $1)
         ORDER BY created_at, id
         LIMIT $2"
    );
    let rows = sqlx::query_as::<_, UserRow>(query).bind(after).bind(limit).fetch_all(pool).await?;
    Ok(rows.into_iter().map(User::from).collect())
}

pub(crate) async fn set_roles(pool: &PgPool, id: Uuid, roles: &Roles) -> Result<User, AuthError> {
    let query = concat!("UPDATE auth.users SET roles = $2 WHERE id = $1 RETURNING ", columns!());
    sqlx::query_as::<_, UserRow>(query)
        .bind(id)
        .bind(roles.names())
        .fetch_optional(pool)
        .await?
        .map(User::from)
        .ok_or(AuthError::UserNotFound)
}
