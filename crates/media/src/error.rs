//! The media service's errors, and the one place they become gRPC statuses.

use ottr_runtime::ErrorCode;
use tonic::Status;

use ottr_storage::StorageError;

use crate::probe::Rejection;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{0}")]
    Rejected(#[from] Rejection),
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("the upload is larger than the {0}-byte limit")]
    TooLarge(u64),
    #[error("the upload ended after {received} of {declared} declared bytes")]
    Incomplete { received: u64, declared: u64 },
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("the job is {0}; that cannot be done now")]
    JobState(String),
    #[error("sign in first")]
    Unauthenticated,
    #[error("only editors and admins manage media")]
    PermissionDenied,
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl MediaError {
    pub fn code(&self) -> ErrorCode {
        match self {
            MediaError::Rejected(rejection) => rejection_code(rejection),
            MediaError::Invalid { .. } => ErrorCode::InvalidArgument,
            MediaError::TooLarge(_) => ErrorCode::UploadTooLarge,
            MediaError::Incomplete { .. } => ErrorCode::UploadIncomplete,
            MediaError::NotFound(_) => ErrorCode::NotFound,
            MediaError::JobState(_) => ErrorCode::JobStateConflict,
            MediaError::Unauthenticated => ErrorCode::Unauthenticated,
            MediaError::PermissionDenied => ErrorCode::PermissionDenied,
            MediaError::Storage(_) => ErrorCode::Unavailable,
            MediaError::Database(error) if ottr_runtime::db::is_unavailable(error) => ErrorCode::Unavailable,
            MediaError::Database(_) | MediaError::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn is_client_error(&self) -> bool {
        !matches!(self, MediaError::Storage(_) | MediaError::Database(_) | MediaError::Internal(_))
    }
}

/// The stable code a rejected source is reported under, in RPC errors and failed jobs.
pub fn rejection_code(rejection: &Rejection) -> ErrorCode {
    match rejection {
        Rejection::NoVideo => ErrorCode::NoVideoStream,
        Rejection::UnsupportedContainer(_) => ErrorCode::UnsupportedContainer,
        Rejection::ZeroDuration => ErrorCode::ZeroDuration,
        Rejection::TooLong(..) => ErrorCode::DurationTooLong,
        Rejection::TooManyPixels(..) => ErrorCode::TooManyPixels,
        Rejection::TooManyStreams(..) => ErrorCode::TooManyStreams,
        Rejection::Unreadable(_) => ErrorCode::UnreadableMedia,
    }
}

impl From<MediaError> for Status {
    fn from(error: MediaError) -> Self {
        let code = error.code();
        if !error.is_client_error() {
            return code.server_error("media", &error);
        }
        code.status(error.to_string())
    }
}
