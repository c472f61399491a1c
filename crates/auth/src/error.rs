//! The auth service's errors, and the one place they become gRPC statuses.

use ottr_runtime::ErrorCode;
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
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AuthError {
    pub fn code(&self) -> ErrorCode {
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
            AuthError::Database(error) if ottr_runtime::db::is_unavailable(error) => ErrorCode::Unavailable,
            AuthError::Database(_) | AuthError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The caller's fault (told what went wrong) or ours (told only that something did).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, AuthError::Database(_) | AuthError::Internal(_))
    }
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        let code = error.code();
        if !error.is_client_error() {
            return code.server_error("auth", &error);
        }
        let mut status = code.status(error.to_string());
        let retry_after = match error {
            AuthError::TooManyAttempts { retry_after_secs } => Some(retry_after_secs),
            AuthError::ServerBusy { retry_after_secs } => Some(retry_after_secs as i64),
            _ => None,
        };
        if let Some(secs) = retry_after {
            status.metadata_mut().insert("retry-after", MetadataValue::from(secs));
        }
        status
    }
}

impl From<ottr_runtime::token::TokenError> for AuthError {
    fn from(error: ottr_runtime::token::TokenError) -> Self {
        AuthError::Internal(error.to_string())
    }
}
