//! The edge's errors, and the one place they become HTTP responses: `{ "code", "message" }`
//! with the same stable codes the gRPC services use, plus the headers a protocol asks for
//! on an error (tus's `Upload-Offset`, HTTP's `Content-Range`). Handlers name what went
//! wrong; only this module picks codes and statuses, and only here are our own failures
//! logged, once, with their cause chain.

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use ottr_runtime::{ErrorCode, token::TokenError};
use ottr_storage::StorageError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::hls::token::TokenProblem;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, snake_case; safe to match on.
    pub code: String,
    /// For people; may change.
    pub message: String,
}

type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What the clients are told when the fault is ours.
const SAFE_MESSAGE: &str = "something went wrong on our side; try again";

#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    /// An internal service answered with an error; its code passes through.
    #[error("{}", .0.message())]
    Upstream(tonic::Status),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("the request body could not be read")]
    BodyUnreadable(#[source] axum::Error),
    #[error("sign in first: no access token was sent")]
    Unauthenticated,
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("{0}")]
    PermissionDenied(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("at most {limit} bytes are accepted")]
    UploadTooLarge { limit: u64 },
    #[error("more bytes than Upload-Length")]
    UploadLongerThanDeclared,
    #[error("another request is writing this upload")]
    UploadBusy,
    #[error("the upload continues at offset {offset}")]
    UploadOffsetMismatch { offset: u64 },
    #[error("tus PATCH bodies are application/offset+octet-stream")]
    UnsupportedMediaType,
    #[error("the bytes received do not match Upload-Checksum")]
    ChecksumMismatch,
    #[error(transparent)]
    PlaybackToken(#[from] TokenProblem),
    #[error("the object has {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    #[error("object storage failed")]
    Storage(#[source] StorageError),
    #[error("too many requests from this address; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the request body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("the request took too long")]
    TimedOut,
    #[error("unfinished uploads may declare at most {quota} bytes together; finish or cancel some")]
    UploadQuotaExceeded { quota: u64 },
    #[error("at most {limit} progress streams may be open at once per user")]
    StreamLimitReached { limit: usize },
    /// Ours, not the caller's: `context` says what the edge was doing.
    #[error("{context}")]
    Internal {
        context: &'static str,
        #[source]
        source: Cause,
    },
}

impl EdgeError {
    /// An internal failure, keeping its cause for the log.
    pub fn internal(context: &'static str, source: impl Into<Cause>) -> Self {
        EdgeError::Internal { context, source: source.into() }
    }

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
            EdgeError::InvalidArgument(_) | EdgeError::BodyUnreadable(_) => ErrorCode::InvalidArgument,
            EdgeError::Unauthenticated => ErrorCode::Unauthenticated,
            EdgeError::Token(TokenError::Expired) => ErrorCode::TokenExpired,
            EdgeError::Token(TokenError::Invalid(_)) => ErrorCode::TokenInvalid,
            EdgeError::Token(TokenError::KeysUnavailable(_)) => ErrorCode::Unavailable,
            EdgeError::PermissionDenied(_) => ErrorCode::PermissionDenied,
            EdgeError::NotFound(_) => ErrorCode::NotFound,
            EdgeError::UploadTooLarge { .. } | EdgeError::UploadLongerThanDeclared => ErrorCode::UploadTooLarge,
            EdgeError::UploadBusy => ErrorCode::UploadBusy,
            EdgeError::UploadOffsetMismatch { .. } => ErrorCode::UploadOffsetMismatch,
            EdgeError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            EdgeError::ChecksumMismatch => ErrorCode::ChecksumMismatch,
            EdgeError::PlaybackToken(TokenProblem::Invalid) => ErrorCode::PlaybackTokenInvalid,
            EdgeError::PlaybackToken(TokenProblem::Expired) => ErrorCode::PlaybackTokenExpired,
            EdgeError::RangeNotSatisfiable { .. } => ErrorCode::RangeNotSatisfiable,
            EdgeError::Storage(StorageError::NotFound(_) | StorageError::BadKey(_)) => ErrorCode::NotFound,
            EdgeError::Storage(_) => ErrorCode::Unavailable,
            EdgeError::TooManyRequests { .. } => ErrorCode::TooManyRequests,
            EdgeError::BodyTooLarge { .. } => ErrorCode::BodyTooLarge,
            EdgeError::TimedOut => ErrorCode::RequestTimeout,
            EdgeError::StreamLimitReached { .. } => ErrorCode::StreamLimitReached,
            EdgeError::UploadQuotaExceeded { .. } => ErrorCode::UploadQuotaExceeded,
            EdgeError::Internal { .. } => ErrorCode::Internal,
        }
    }

    /// The message a client sees; for failures on our side, only that they happened.
    fn message(&self, code: ErrorCode) -> String {
        match self {
            EdgeError::Upstream(status) if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) => {
                // The service that failed logged why; the caller learns only that.
                tracing::warn!(grpc_code = ?status.code(), message = status.message(), "upstream failure");
                SAFE_MESSAGE.to_owned()
            }
            EdgeError::Storage(StorageError::NotFound(_) | StorageError::BadKey(_)) => "no such object".to_owned(),
            EdgeError::Token(TokenError::KeysUnavailable(_)) | EdgeError::Storage(_) | EdgeError::Internal { .. } => {
                let chain: Vec<String> =
                    std::iter::successors(Some(self as &(dyn std::error::Error + 'static)), |e| e.source())
                        .map(ToString::to_string)
                        .collect();
                tracing::error!(code = code.as_str(), error = chain.join(": "), "request failed");
                SAFE_MESSAGE.to_owned()
            }
            _ => self.to_string(),
        }
    }

    /// Headers the protocol wants on this refusal, so a client knows where it stands.
    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        match self {
            EdgeError::UploadOffsetMismatch { offset } => {
                headers.insert("upload-offset", HeaderValue::from(*offset));
            }
            EdgeError::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            EdgeError::RangeNotSatisfiable { size } => {
                if let Ok(value) = HeaderValue::try_from(format!("bytes */{size}")) {
                    headers.insert(header::CONTENT_RANGE, value);
                }
            }
            _ => {}
        }
        headers
    }
}

impl From<tonic::Status> for EdgeError {
    fn from(status: tonic::Status) -> Self {
        EdgeError::Upstream(status)
    }
}

impl EdgeError {
    /// The HTTP status and body, for answers that are not a whole response (an SSE `error` event).
    pub fn to_body(&self) -> (StatusCode, ErrorBody) {
        let code = self.code();
        let message = self.message(code);
        let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, ErrorBody { code: code.as_str().to_owned(), message })
    }
}

/// For the edge's own gRPC services: the same code, in `ottr-error-code`, and the same
/// message a REST caller gets. An upstream refusal passes through as the service sent it.
impl From<EdgeError> for tonic::Status {
    fn from(error: EdgeError) -> Self {
        let code = error.code();
        match error {
            EdgeError::Upstream(status) if !matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) => status,
            other => code.status(other.message(code)),
        }
    }
}

impl IntoResponse for EdgeError {
    fn into_response(self) -> Response {
        let (status, body) = self.to_body();
        (status, self.headers(), Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(error: EdgeError) -> (u16, HeaderMap) {
        let response = error.into_response();
        (response.status().as_u16(), response.headers().clone())
    }

    #[test]
    fn tus_refusals_keep_their_statuses_and_headers() {
        let (status, headers) = answer(EdgeError::UploadOffsetMismatch { offset: 42 });
        assert_eq!(status, 409);
        assert_eq!(headers["upload-offset"], "42");
        assert_eq!(answer(EdgeError::ChecksumMismatch).0, 460);
        assert_eq!(answer(EdgeError::UnsupportedMediaType).0, 415);
        assert_eq!(answer(EdgeError::UploadBusy).0, 409);
        assert_eq!(answer(EdgeError::UploadLongerThanDeclared).0, 413);
    }

    #[test]
    fn our_failures_keep_their_cause_but_tell_the_client_only_the_code() {
        let error = EdgeError::internal("writing the upload", std::io::Error::other("disk on fire"));
        assert_eq!(std::error::Error::source(&error).unwrap().to_string(), "disk on fire");
        assert_eq!(error.code(), ErrorCode::Internal);
        assert_eq!(error.message(ErrorCode::Internal), SAFE_MESSAGE);
        let (status, headers) = answer(EdgeError::RangeNotSatisfiable { size: 10 });
        assert_eq!(status, 416);
        assert_eq!(headers[header::CONTENT_RANGE], "bytes */10");
    }
}
