//! Queries on `auth.users`.

use ottr_runtime::token::Role;
use sqlx::{PgConnection, PgExecutor, PgPool};
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
    disabled: bool,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        // The check constraint allows only known names.
        let roles = row.roles.iter().filter_map(|r| Role::parse(r)).collect();
        User { id: row.id, email: row.email, roles, created_at: row.created_at, disabled: row.disabled }
    }
}

/// A user with the password hash, for checking a password.
#[derive(sqlx::FromRow)]
struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

impl From<CredentialsRow> for (User, String) {
    fn from(row: CredentialsRow) -> Self {
        (row.user.into(), row.password_hash)
    }
}

/// The columns of [`UserRow`], spliced into literal queries.
macro_rules! columns {
    () => {
        "id, email, roles, created_at, disabled_at IS NOT NULL AS disabled"
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
    let row = sqlx::query_as::<_, CredentialsRow>(query).bind(email.as_str()).fetch_optional(pool).await?;
    Ok(row.map(Into::into))
}

/// How [`lock_credentials`] holds the account's row until the transaction ends.
pub(crate) enum Lock {
    /// Against changes (password, disabling, deletion): a session starts only for the
    /// account as it is now, and any number may start at once.
    Share,
    /// Against everything, sessions starting included: for deleting the account.
    Update,
}

/// The user and its password hash, locked as `lock` says.
pub(crate) async fn lock_credentials(
    conn: &mut PgConnection,
    id: Uuid,
    lock: Lock,
) -> Result<(User, String), AuthError> {
    let query = match lock {
        Lock::Share => concat!("SELECT ", columns!(), ", password_hash FROM auth.users WHERE id = $1 FOR SHARE"),
        Lock::Update => concat!("SELECT ", columns!(), ", password_hash FROM auth.users WHERE id = $1 FOR UPDATE"),
    };
    let row = sqlx::query_as::<_, CredentialsRow>(query).bind(id).fetch_optional(conn).await?;
    row.map(Into::into).ok_or(AuthError::UserNotFound)
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

pub(crate) async fn set_roles(conn: &mut PgConnection, id: Uuid, roles: &Roles) -> Result<User, AuthError> {
    let query = concat!("UPDATE auth.users SET roles = $2 WHERE id = $1 RETURNING ", columns!());
    sqlx::query_as::<_, UserRow>(query)
        .bind(id)
        .bind(roles.names())
        .fetch_optional(conn)
        .await?
        .map(User::from)
        .ok_or(AuthError::UserNotFound)
}

/// Refuses with `last_admin` when `id` is the only enabled admin, before a change that
/// would leave it no admin (its role taken away, or the account deleted): nobody could
/// then manage roles or accounts. Every enabled admin's row is locked, in one order, for
/// the rest of the caller's transaction, so two admins demoting each other at once cannot
/// both pass: the second sees the first's change and is refused.
pub(crate) async fn keep_an_admin(conn: &mut PgConnection, id: Uuid) -> Result<(), AuthError> {
    const ADMINS: &str = "SELECT id FROM auth.users WHERE 'admin' = ANY(roles) AND disabled_at IS NULL
                          ORDER BY id FOR UPDATE";
    let admins: Vec<Uuid> = sqlx::query_scalar(ADMINS).fetch_all(conn).await?;
    if admins.contains(&id) && admins.iter().all(|admin| *admin == id) {
        return Err(AuthError::LastAdmin);
    }
    Ok(())
}

/// Replaces the password hash, if it is still `verified` (the one the caller checked the
/// old password against); otherwise another change came first: `invalid_credentials`.
pub(crate) async fn set_password(
    conn: &mut PgConnection,
    id: Uuid,
    verified: &str,
    password_hash: &str,
) -> Result<(), AuthError> {
    let done = sqlx::query("UPDATE auth.users SET password_hash = $3 WHERE id = $1 AND password_hash = $2")
        .bind(id)
        .bind(verified)
        .bind(password_hash)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AuthError::InvalidCredentials);
    }
    Ok(())
}

/// Disables (keeping the first moment it was disabled) or enables an account.
pub(crate) async fn set_disabled(conn: &mut PgConnection, id: Uuid, disabled: bool) -> Result<User, AuthError> {
    let query = concat!(
        "UPDATE auth.users SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END
         WHERE id = $1 RETURNING ",
        columns!()
    );
    sqlx::query_as::<_, UserRow>(query)
        .bind(id)
        .bind(disabled)
        .fetch_optional(conn)
        .await?
        .map(User::from)
        .ok_or(AuthError::UserNotFound)
}

/// Deletes the account; its refresh families and device sign-ins go with it (cascades).
pub(crate) async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<(), AuthError> {
    let done = sqlx::query("DELETE FROM auth.users WHERE id = $1").bind(id).execute(conn).await?;
    if done.rows_affected() == 0 {
        return Err(AuthError::UserNotFound);
    }
    Ok(())
}

/// Id and email of each of `ids` that exists, by email.
pub(crate) async fn lookup(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, AuthError> {
    let rows = sqlx::query_as("SELECT id, email FROM auth.users WHERE id = ANY($1) ORDER BY email, id")
        .bind(ids)
        .fetch_all(pool)
        .await?;
    Ok(rows)
}
