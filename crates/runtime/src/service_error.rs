//! The one way a service's error becomes a gRPC status. Each service's error enum says
//! what its code is and whether the failure is ours; this module does the rest, the same
//! way everywhere: our failures are logged once with their whole cause chain and reach the
//! client as the code and a safe message; the caller's are told what went wrong.

use std::error::Error;

use tonic::Status;

use crate::ErrorCode;

/// What clients are told when the failure is ours.
pub const SAFE_MESSAGE: &str = "something went wrong on our side; try again";

/// What a service's error enum tells the conversion to [`Status`].
pub trait ServiceError: Error + 'static {
    /// The service the error comes from, as logs name it.
    const SERVICE: &'static str;

    /// The stable code clients see.
    fn code(&self) -> ErrorCode;

    /// Ours (a database, storage, a subprocess, a bug), not the caller's request.
    fn is_internal(&self) -> bool;

    /// Adds metadata a caller's error carries besides its code (the field at fault, when to retry).
    fn annotate(&self, _status: &mut Status) {}
}

/// The status for `error`. Each service's `From<Error> for Status` is this one call.
pub fn to_status<E: ServiceError>(error: E) -> Status {
    let code = error.code();
    if error.is_internal() {
        tracing::error!(service = E::SERVICE, code = code.as_str(), error = %chain(&error), "request failed");
        return code.status(SAFE_MESSAGE);
    }
    let mut status = code.status(error.to_string());
    error.annotate(&mut status);
    status
}

/// `error` and every cause below it, joined by ": ", as logs and failed jobs record them.
/// A cause whose text its parent already ends with (an error that both prints and exposes
/// its source) is not repeated.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        let link = current.to_string();
        if !text.ends_with(&link) {
            text.push_str(": ");
            text.push_str(&link);
        }
        cause = current.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::{
        io::Write,
        sync::{Arc, Mutex},
    };

    use tonic::metadata::MetadataValue;

    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum TestError {
        #[error("{0}: not allowed here")]
        Invalid(&'static str),
        #[error("reading the ledger")]
        Ledger(#[source] std::io::Error),
    }

    impl ServiceError for TestError {
        const SERVICE: &'static str = "test";

        fn code(&self) -> ErrorCode {
            match self {
                TestError::Invalid(_) => ErrorCode::InvalidArgument,
                TestError::Ledger(_) => ErrorCode::Internal,
            }
        }

        fn is_internal(&self) -> bool {
            matches!(self, TestError::Ledger(_))
        }

        fn annotate(&self, status: &mut Status) {
            if let TestError::Invalid(field) = self {
                status.metadata_mut().insert(crate::error_code::FIELD_METADATA_KEY, MetadataValue::from_static(field));
            }
        }
    }

    /// Collects what the fmt subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged_while(f: impl FnOnce() -> Status) -> (Status, String) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        let status = tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("utf-8 logs");
        (status, text)
    }

    #[test]
    fn an_internal_error_is_logged_once_with_its_cause_and_the_client_gets_a_safe_message() {
        let cause = std::io::Error::other("disk on fire");
        let (status, logs) = logged_while(|| to_status(TestError::Ledger(cause)));
        assert_eq!(ErrorCode::of(&status), Some(ErrorCode::Internal));
        assert_eq!(status.message(), SAFE_MESSAGE);
        assert_eq!(logs.matches("request failed").count(), 1, "{logs}");
        assert!(logs.contains("reading the ledger: disk on fire"), "{logs}");
    }

    #[test]
    fn a_cause_its_parent_already_prints_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("storage I/O: {0}")]
        struct Printed(#[from] std::io::Error);
        let printed = TestError::Ledger(std::io::Error::other(Printed(std::io::Error::other("disk full"))));
        assert_eq!(chain(&printed), "reading the ledger: storage I/O: disk full");
    }

    #[test]
    fn a_callers_error_is_told_with_its_annotations_and_not_logged() {
        let (status, logs) = logged_while(|| to_status(TestError::Invalid("fields.slug")));
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "fields.slug: not allowed here");
        assert_eq!(status.metadata().get(crate::error_code::FIELD_METADATA_KEY).unwrap(), "fields.slug");
        assert!(logs.is_empty(), "{logs}");
    }
}
