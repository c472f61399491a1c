//! The one table of stable error codes. A code is a snake_case word that clients may match
//! on; gRPC carries it in the `ottr-error-code` metadata, REST in `{ "code", "message" }`.
//! Messages may change between releases; codes do not.

use tonic::{Code, Status, metadata::MetadataValue};

/// The metadata key that carries the code on a gRPC error.
pub const METADATA_KEY: &str = "ottr-error-code";
/// The metadata key that names the request field an `invalid_argument` is about.
pub const FIELD_METADATA_KEY: &str = "ottr-error-field";

macro_rules! codes {
    ($($variant:ident => $text:literal, $grpc:ident, $http:literal;)+) => {
        /// A stable error code. See the module docs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($variant),+ }

        impl ErrorCode {
            /// Every code, for tests and documentation.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The code as clients see it.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $text),+ }
            }

            /// The gRPC status code that goes with it.
            pub fn grpc_code(self) -> Code {
                match self { $(ErrorCode::$variant => Code::$grpc),+ }
            }

            /// The HTTP status that goes with it, for REST.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $http),+ }
            }

            /// Reads the code back from its text.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(ErrorCode::$variant),)+ _ => None }
            }
        }
    };
}

codes! {
    // Generic.
    InvalidArgument => "invalid_argument", InvalidArgument, 400;
    Unauthenticated => "unauthenticated", Unauthenticated, 401;
    PermissionDenied => "permission_denied", PermissionDenied, 403;
    NotFound => "not_found", NotFound, 404;
    Internal => "internal", Internal, 500;
    Unavailable => "unavailable", Unavailable, 503;
    // Expensive work (argon2) is bounded; 429 rather than 503 because the answer is "slow
    // down", and a client that waits `retry-after` succeeds.
    ServerBusy => "server_busy", ResourceExhausted, 429;
    // Access tokens.
    TokenExpired => "token_expired", Unauthenticated, 401;
    TokenInvalid => "token_invalid", Unauthenticated, 401;
    // Accounts and sessions.
    InvalidEmail => "invalid_email", InvalidArgument, 400;
    InvalidPassword => "invalid_password", InvalidArgument, 400;
    InvalidRole => "invalid_role", InvalidArgument, 400;
    EmailTaken => "email_taken", AlreadyExists, 409;
    InvalidCredentials => "invalid_credentials", Unauthenticated, 401;
    TooManyAttempts => "too_many_attempts", ResourceExhausted, 429;
    InvalidRefreshToken => "invalid_refresh_token", Unauthenticated, 401;
    RefreshTokenReused => "refresh_token_reused", Unauthenticated, 401;
    UserNotFound => "user_not_found", NotFound, 404;
    // An admin disabled the account: no sign-in, no refresh, until it is enabled again.
    AccountDisabled => "account_disabled", PermissionDenied, 403;
    // An admin may not lock themself out.
    CannotDisableSelf => "cannot_disable_self", FailedPrecondition, 409;
    // Neither demoted nor deleted: the only enabled admin (someone must manage accounts).
    LastAdmin => "last_admin", FailedPrecondition, 409;
    // TV sign-in, RFC 8628's device flow. The first four are the RFC's own names (§3.5), with
    // the 400 its token endpoint answers, so a device client written to the RFC branches
    // the same way on `code`.
    AuthorizationPending => "authorization_pending", FailedPrecondition, 400;
    SlowDown => "slow_down", ResourceExhausted, 400;
    ExpiredToken => "expired_token", FailedPrecondition, 400;
    AccessDenied => "access_denied", PermissionDenied, 400;
    // A device code that was never issued, or was already exchanged for a session.
    InvalidDeviceCode => "invalid_device_code", InvalidArgument, 400;
    // No pending sign-in has this user code (mistyped, already used): what the viewer sees.
    InvalidUserCode => "invalid_user_code", NotFound, 404;
    // Catalog.
    SlugTaken => "slug_taken", AlreadyExists, 409;
    NumberTaken => "number_taken", AlreadyExists, 409;
    ProfileNameTaken => "profile_name_taken", AlreadyExists, 409;
    ProfileLimitReached => "profile_limit_reached", FailedPrecondition, 409;
    // Media.
    NoVideoStream => "no_video_stream", InvalidArgument, 422;
    UnsupportedContainer => "unsupported_container", InvalidArgument, 415;
    ZeroDuration => "zero_duration", InvalidArgument, 422;
    DurationTooLong => "duration_too_long", InvalidArgument, 422;
    TooManyPixels => "too_many_pixels", InvalidArgument, 422;
    TooManyStreams => "too_many_streams", InvalidArgument, 422;
    UnreadableMedia => "unreadable_media", InvalidArgument, 422;
    UploadTooLarge => "upload_too_large", InvalidArgument, 413;
    UploadIncomplete => "upload_incomplete", InvalidArgument, 400;
    TranscodeFailed => "transcode_failed", Internal, 500;
    JobStateConflict => "job_state_conflict", FailedPrecondition, 409;
    // Subtitle tracks: a file that is not WebVTT or SubRip (the message names the line),
    // and an asset that has no finished ladder to add them to yet.
    InvalidSubtitles => "invalid_subtitles", InvalidArgument, 422;
    AssetNotReady => "asset_not_ready", FailedPrecondition, 409;
    // Edge.
    PlaybackTokenInvalid => "playback_token_invalid", PermissionDenied, 403;
    PlaybackTokenExpired => "playback_token_expired", PermissionDenied, 403;
    RangeNotSatisfiable => "range_not_satisfiable", OutOfRange, 416;
    // Edge uploads (tus 1.0 answers these statuses; 460 is its Checksum Mismatch).
    UploadBusy => "upload_busy", Aborted, 409;
    UploadOffsetMismatch => "upload_offset_mismatch", FailedPrecondition, 409;
    UnsupportedMediaType => "unsupported_media_type", InvalidArgument, 415;
    ChecksumMismatch => "checksum_mismatch", DataLoss, 460;
    // Edge limits: per-address request rate, body size, time per request, open streams.
    TooManyRequests => "too_many_requests", ResourceExhausted, 429;
    BodyTooLarge => "body_too_large", InvalidArgument, 413;
    RequestTimeout => "request_timeout", DeadlineExceeded, 504;
    StreamLimitReached => "stream_limit_reached", ResourceExhausted, 429;
    // Bytes declared by a user's unfinished uploads, all together, are bounded.
    UploadQuotaExceeded => "upload_quota_exceeded", ResourceExhausted, 409;
    // An unfinished upload past its Upload-Expires (tus expiration: 410 Gone), and a
    // direct upload URL that is unknown, expired or already used.
    UploadExpired => "upload_expired", NotFound, 410;
    DirectUploadInvalid => "direct_upload_invalid", PermissionDenied, 403;
    // A webhook URL that is not https, or whose host is (or resolves to) a loopback,
    // private or link-local address: no requests into the operator's own network.
    WebhookUrlRefused => "webhook_url_refused", InvalidArgument, 422;
}

impl ErrorCode {
    /// A gRPC status with this code in its metadata and a message safe to show a client.
    pub fn status(self, message: impl Into<String>) -> Status {
        let mut status = Status::new(self.grpc_code(), message);
        status.metadata_mut().insert(METADATA_KEY, MetadataValue::from_static(self.as_str()));
        status
    }

    /// The code a status carries, when an ottr service produced it.
    pub fn of(status: &Status) -> Option<Self> {
        status.metadata().get(METADATA_KEY).and_then(|value| value.to_str().ok()).and_then(Self::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_text_and_a_status() {
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert_eq!(ErrorCode::of(&code.status("x")), Some(code));
            assert!(code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }

    #[test]
    fn upload_codes_answer_the_statuses_tus_clients_expect() {
        assert_eq!(ErrorCode::UploadBusy.http_status(), 409);
        assert_eq!(ErrorCode::UploadOffsetMismatch.http_status(), 409);
        assert_eq!(ErrorCode::UnsupportedMediaType.http_status(), 415);
        assert_eq!(ErrorCode::ChecksumMismatch.http_status(), 460);
        assert_eq!(ErrorCode::parse("upload_busy"), Some(ErrorCode::UploadBusy));
        assert_ne!(ErrorCode::UploadBusy, ErrorCode::JobStateConflict, "a busy upload is not a job conflict");
    }

    /// A code nobody returns is a promise nobody keeps: each must be named outside this table.
    #[test]
    fn every_code_is_used_somewhere_in_the_services() {
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut sources = String::new();
        collect_sources(&crates, &mut sources);
        for &code in ErrorCode::ALL {
            let needle = format!("ErrorCode::{code:?}");
            assert!(sources.contains(&needle), "{needle} is never used");
        }
    }

    fn collect_sources(dir: &std::path::Path, into: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                collect_sources(&path, into);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !path.ends_with("error_code.rs")
                && path.components().any(|c| c.as_os_str() == "src")
            {
                into.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
}
