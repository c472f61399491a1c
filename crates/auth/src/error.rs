//! The auth service's errors, and the one place they become gRPC statuses.

use ottr_runtime::{ErrorCode, ServiceError};
use tonic::{Status, metadata::MetadataValue};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    InvalidEmail(&'static str),
    #[error("{0}")]
    InvalidPassword(String),
    #[error("{0}")]
    InvalidRole(&'static str),
    #[error("{0}")]
    InvalidArgument(&'static str),
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: i64 },
    #[error("the server is busy; try again in {retry_after_secs} s")]
    ServerBusy { retry_after_secs: u64 },
    #[error("the refresh token is not valid")]
    InvalidRefreshToken,
    #[error("the refresh token was already used; every session of this sign-in is revoked")]
    RefreshTokenReused,
    #[error("sign in first")]
    Unauthenticated,
    #[error("this needs the {0} role")]
    PermissionDenied(&'static str),
    #[error("no such user")]
    UserNotFound,
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("an admin cannot disable their own account")]
    CannotDisableSelf,
    #[error("this is the only admin: make another account admin first")]
    LastAdmin,
    #[error("the sign-in has not been confirmed yet")]
    AuthorizationPending,
    #[error("polled too soon; poll at most every {interval_secs} s")]
    SlowDown { interval_secs: i64 },
    #[error("the code has expired; start again")]
    ExpiredToken,
    #[error("the sign-in was refused")]
    AccessDenied,
    #[error("the device code is not valid")]
    InvalidDeviceCode,
    #[error("no pending sign-in has this code")]
    InvalidUserCode,
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("cannot listen on {addr}")]
    Listen { addr: String, source: std::io::Error },
    #[error("no signing key is active")]
    NoSigningKey,
    #[error("no free user code was drawn")]
    NoFreeUserCode,
    #[error("signing an access token")]
    Signing(#[source] jsonwebtoken::errors::Error),
    #[error("the system's random number generator failed")]
    Randomness(#[source] aws_lc_rs::error::Unspecified),
    #[error("a generated Ed25519 key does not parse")]
    KeyRejected(#[source] aws_lc_rs::error::KeyRejected),
    #[error("argon2")]
    Argon2(#[source] argon2::password_hash::Error),
    #[error("a stored password hash does not parse")]
    StoredHash(#[source] argon2::password_hash::phc::Error),
    #[error("the hashing threads stopped")]
    HashersStopped,
    #[error("a hashing job ended without an answer")]
    HashingUnanswered(#[source] tokio::sync::oneshot::error::RecvError),
    #[error("the password hashing task failed")]
    Hashing(#[source] tokio::task::JoinError),
    #[error("verifying a token")]
    Token(#[from] ottr_runtime::token::TokenError),
}

impl ServiceError for AuthError {
    const SERVICE: &'static str = "auth";

    fn code(&self) -> ErrorCode {
        match self {
            AuthError::InvalidEmail(_) => ErrorCode::InvalidEmail,
            AuthError::InvalidPassword(_) => ErrorCode::InvalidPassword,
            AuthError::InvalidRole(_) => ErrorCode::InvalidRole,
            AuthError::InvalidArgument(_) => ErrorCode::InvalidArgument,
            AuthError::EmailTaken => ErrorCode::EmailTaken,
            AuthError::InvalidCredentials => ErrorCode::InvalidCredentials,
            AuthError::TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            AuthError::ServerBusy { .. } => ErrorCode::ServerBusy,
            AuthError::InvalidRefreshToken => ErrorCode::InvalidRefreshToken,
            AuthError::RefreshTokenReused => ErrorCode::RefreshTokenReused,
            AuthError::Unauthenticated => ErrorCode::Unauthenticated,
            AuthError::PermissionDenied(_) => ErrorCode::PermissionDenied,
            AuthError::UserNotFound => ErrorCode::UserNotFound,
            AuthError::AccountDisabled => ErrorCode::AccountDisabled,
            AuthError::CannotDisableSelf => ErrorCode::CannotDisableSelf,
            AuthError::LastAdmin => ErrorCode::LastAdmin,
            AuthError::AuthorizationPending => ErrorCode::AuthorizationPending,
            AuthError::SlowDown { .. } => ErrorCode::SlowDown,
            AuthError::ExpiredToken => ErrorCode::ExpiredToken,
            AuthError::AccessDenied => ErrorCode::AccessDenied,
            AuthError::InvalidDeviceCode => ErrorCode::InvalidDeviceCode,
            AuthError::InvalidUserCode => ErrorCode::InvalidUserCode,
            AuthError::Database(error) if ottr_runtime::db::is_unavailable(error) => ErrorCode::Unavailable,
            _ => ErrorCode::Internal,
        }
    }

    /// The caller's fault (told what went wrong) or ours (told only that something did).
    fn is_internal(&self) -> bool {
        matches!(
            self,
            AuthError::Database(_)
                | AuthError::Listen { .. }
                | AuthError::NoSigningKey
                | AuthError::NoFreeUserCode
                | AuthError::Signing(_)
                | AuthError::Randomness(_)
                | AuthError::KeyRejected(_)
                | AuthError::Argon2(_)
                | AuthError::StoredHash(_)
                | AuthError::Hashing(_)
                | AuthError::HashersStopped
                | AuthError::HashingUnanswered(_)
                | AuthError::Token(_)
        )
    }

    fn annotate(&self, status: &mut Status) {
        let retry_after = match self {
            AuthError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            AuthError::ServerBusy { retry_after_secs } => Some(*retry_after_secs as i64),
            AuthError::SlowDown { interval_secs } => Some(*interval_secs),
            _ => None,
        };
        if let Some(secs) = retry_after {
            status.metadata_mut().insert("retry-after", MetadataValue::from(secs));
        }
    }
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        ottr_runtime::to_status(error)
    }
}
