//! The media service's errors, and how they become gRPC statuses (through the runtime's
//! one conversion). Failures that are ours keep their cause as a typed source, so the log
//! line shows the whole chain.

use ottr_runtime::{ErrorCode, ServiceError};
use ottr_storage::StorageError;
use tonic::Status;

use crate::{
    probe::{ProbeError, Rejection},
    process::ProcessError,
    store::jobs::JobState,
    subtitles::SubtitleError,
};

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
    #[error("another request is writing this upload")]
    UploadBusy,
    #[error("too many uploads are being written now; try again shortly")]
    WritersBusy,
    #[error("the upload's client sent nothing for too long")]
    UploadIdle,
    #[error("the stored source could not be read: {0}")]
    SourceUnreachable(String),
    #[error("the upload continues at offset {offset}")]
    OffsetMismatch { offset: u64 },
    #[error("more bytes than the upload's declared length")]
    LongerThanDeclared,
    #[error("the bytes received do not match their checksum")]
    ChecksumMismatch,
    #[error("unfinished uploads may declare at most {quota} bytes together; finish or cancel some")]
    QuotaExceeded { quota: u64 },
    #[error("the upload expired")]
    UploadExpired,
    #[error("this direct upload URL is unknown, expired or already used")]
    DirectUploadInvalid,
    #[error("the job is {0}; that cannot be done now")]
    JobState(JobState),
    #[error("the subtitle file is not accepted: {0}")]
    Subtitles(#[from] SubtitleError),
    #[error("the asset is not ready; tracks are added once its ladder is complete")]
    NotReady,
    #[error("the webhook URL is refused: {0}")]
    WebhookUrlRefused(String),
    #[error("sign in first")]
    Unauthenticated,
    #[error("only editors and admins manage media")]
    PermissionDenied,
    #[error("storage")]
    Storage(#[from] StorageError),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("ffprobe could not be run")]
    Ffprobe(#[source] ProcessError),
    #[error("the upload stream broke")]
    UploadStream(#[source] Status),
    #[error("staging the upload on local disk")]
    Staging(#[source] std::io::Error),
    #[error("subscribing to job progress")]
    Subscribe(#[source] fred::error::Error),
    #[error("a progress event names no valid job")]
    EventWithoutJob(#[source] uuid::Error),
    #[error("cannot listen on {addr}")]
    Listen { addr: String, source: std::io::Error },
    #[error("preparing the work folder")]
    WorkDir(#[source] std::io::Error),
    #[error("a background task failed")]
    Task(#[source] tokio::task::JoinError),
}

impl From<ProbeError> for MediaError {
    fn from(error: ProbeError) -> Self {
        match error {
            ProbeError::Rejected(rejection) => MediaError::Rejected(rejection),
            ProbeError::NotRun(error) => MediaError::Ffprobe(error),
            ProbeError::Unreachable(message) => MediaError::SourceUnreachable(message),
        }
    }
}

impl ServiceError for MediaError {
    const SERVICE: &'static str = "media";

    fn code(&self) -> ErrorCode {
        match self {
            MediaError::Rejected(rejection) => rejection_code(rejection),
            MediaError::Invalid { .. } => ErrorCode::InvalidArgument,
            MediaError::TooLarge(_) => ErrorCode::UploadTooLarge,
            MediaError::Incomplete { .. } => ErrorCode::UploadIncomplete,
            MediaError::NotFound(_) => ErrorCode::NotFound,
            MediaError::UploadBusy => ErrorCode::UploadBusy,
            MediaError::WritersBusy => ErrorCode::ServerBusy,
            MediaError::UploadIdle => ErrorCode::RequestTimeout,
            MediaError::SourceUnreachable(_) => ErrorCode::Unavailable,
            MediaError::OffsetMismatch { .. } => ErrorCode::UploadOffsetMismatch,
            MediaError::LongerThanDeclared => ErrorCode::UploadTooLarge,
            MediaError::ChecksumMismatch => ErrorCode::ChecksumMismatch,
            MediaError::QuotaExceeded { .. } => ErrorCode::UploadQuotaExceeded,
            MediaError::UploadExpired => ErrorCode::UploadExpired,
            MediaError::DirectUploadInvalid => ErrorCode::DirectUploadInvalid,
            MediaError::JobState(_) => ErrorCode::JobStateConflict,
            MediaError::Subtitles(_) => ErrorCode::InvalidSubtitles,
            MediaError::NotReady => ErrorCode::AssetNotReady,
            MediaError::WebhookUrlRefused(_) => ErrorCode::WebhookUrlRefused,
            MediaError::Unauthenticated => ErrorCode::Unauthenticated,
            MediaError::PermissionDenied => ErrorCode::PermissionDenied,
            MediaError::Storage(_) => ErrorCode::Unavailable,
            MediaError::Database(error) if ottr_runtime::db::is_unavailable(error) => ErrorCode::Unavailable,
            _ => ErrorCode::Internal,
        }
    }

    fn is_internal(&self) -> bool {
        !matches!(
            self,
            MediaError::Rejected(_)
                | MediaError::Invalid { .. }
                | MediaError::TooLarge(_)
                | MediaError::Incomplete { .. }
                | MediaError::NotFound(_)
                | MediaError::UploadBusy
                | MediaError::WritersBusy
                | MediaError::UploadIdle
                | MediaError::OffsetMismatch { .. }
                | MediaError::LongerThanDeclared
                | MediaError::ChecksumMismatch
                | MediaError::QuotaExceeded { .. }
                | MediaError::UploadExpired
                | MediaError::DirectUploadInvalid
                | MediaError::JobState(_)
                | MediaError::Subtitles(_)
                | MediaError::NotReady
                | MediaError::WebhookUrlRefused(_)
                | MediaError::Unauthenticated
                | MediaError::PermissionDenied
        )
    }
}

impl From<MediaError> for Status {
    fn from(error: MediaError) -> Self {
        ottr_runtime::to_status(error)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ffprobe_that_cannot_start_is_ours_while_its_verdict_is_the_uploaders() {
        let spawn = std::io::Error::new(std::io::ErrorKind::NotFound, "no ffprobe");
        let not_run =
            MediaError::from(ProbeError::NotRun(ProcessError::Spawn { program: "ffprobe".into(), source: spawn }));
        assert_eq!(not_run.code(), ErrorCode::Internal);
        assert!(not_run.is_internal());
        assert_eq!(
            ottr_runtime::service_error::chain(&not_run),
            "ffprobe could not be run: cannot start ffprobe: no ffprobe"
        );
        let verdict = MediaError::from(ProbeError::Rejected(Rejection::Unreadable("moov atom not found".into())));
        assert_eq!(verdict.code(), ErrorCode::UnreadableMedia);
        assert!(!verdict.is_internal());
        let status = Status::from(verdict);
        assert!(status.message().contains("moov atom not found"), "{}", status.message());
    }
}
