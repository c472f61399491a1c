//! The edge's errors, and the one place they become HTTP responses: `{ "code", "message" }`
//! with the same stable codes the gRPC services use.

use axum::{Json, http::StatusCode, response::IntoResponse};
use ottr_runtime::ErrorCode;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, snake_case; safe to match on.
    pub code: String,
    /// For people; may change.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    /// An internal service answered with an error; its code passes through.
    #[error("{}", .0.message())]
    Upstream(tonic::Status),
    #[error("{0}")]
    BadRequest(String),
    #[error("{1}")]
    Coded(ErrorCode, String),
}

impl EdgeError {
    fn code(&self) -> ErrorCode {
        match self {
            EdgeError::Upstream(status) => ErrorCode::of(status).unwrap_or(match status.code() {
                tonic::Code::InvalidArgument | tonic::Code::OutOfRange => ErrorCode::InvalidArgument,
                tonic::Code::Unauthenticated => ErrorCode::Unauthenticated,
                tonic::Code::PermissionDenied => ErrorCode::PermissionDenied,
                tonic::Code::NotFound => ErrorCode::NotFound,
                tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => ErrorCode::Unavailable,
                _ => ErrorCode::Internal,
            }),
            EdgeError::BadRequest(_) => ErrorCode::InvalidArgument,
            EdgeError::Coded(code, _) => *code,
        }
    }
}

impl From<tonic::Status> for EdgeError {
    fn from(status: tonic::Status) -> Self {
        EdgeError::Upstream(status)
    }
}

impl IntoResponse for EdgeError {
    fn into_response(self) -> axum::response::Response {
        let code = self.code();
        let message = match (&self, code) {
            // A service that failed on its side logged why; the caller learns only that.
            (EdgeError::Upstream(status), ErrorCode::Internal | ErrorCode::Unavailable) => {
                tracing::warn!(grpc_code = ?status.code(), message = status.message(), "upstream failure");
                "something went wrong on our side; try again".to_owned()
            }
            _ => self.to_string(),
        };
        let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(ErrorBody { code: code.as_str().to_owned(), message })).into_response()
    }
}
