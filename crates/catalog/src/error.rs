//! The catalog's errors, and the one place they become gRPC statuses.

use ottr_runtime::{ErrorCode, ServiceError, error_code::FIELD_METADATA_KEY};
use tonic::{Status, metadata::MetadataValue};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A request field is wrong; `field` is its path in the request (`fields.slug`).
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("the slug is already used by another title")]
    SlugTaken,
    #[error("that {0} number already exists")]
    NumberTaken(&'static str),
    #[error("this account already has a profile with that name")]
    ProfileNameTaken,
    #[error("an account has at most {0} profiles")]
    ProfileLimitReached(i64),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("sign in first")]
    Unauthenticated,
    #[error("only editors and admins may change the catalog")]
    PermissionDenied,
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("cannot listen on {addr}")]
    Listen { addr: String, source: std::io::Error },
}

impl CatalogError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }
}

impl ServiceError for CatalogError {
    const SERVICE: &'static str = "catalog";

    fn code(&self) -> ErrorCode {
        match self {
            CatalogError::Invalid { .. } => ErrorCode::InvalidArgument,
            CatalogError::SlugTaken => ErrorCode::SlugTaken,
            CatalogError::NumberTaken(_) => ErrorCode::NumberTaken,
            CatalogError::ProfileNameTaken => ErrorCode::ProfileNameTaken,
            CatalogError::ProfileLimitReached(_) => ErrorCode::ProfileLimitReached,
            CatalogError::NotFound(_) => ErrorCode::NotFound,
            CatalogError::Unauthenticated => ErrorCode::Unauthenticated,
            CatalogError::PermissionDenied => ErrorCode::PermissionDenied,
            CatalogError::Database(error) if ottr_runtime::db::is_unavailable(error) => ErrorCode::Unavailable,
            CatalogError::Database(_) | CatalogError::Listen { .. } => ErrorCode::Internal,
        }
    }

    fn is_internal(&self) -> bool {
        matches!(self, CatalogError::Database(_) | CatalogError::Listen { .. })
    }

    fn annotate(&self, status: &mut Status) {
        if let CatalogError::Invalid { field, .. } = self {
            status.metadata_mut().insert(FIELD_METADATA_KEY, MetadataValue::from_static(field));
        }
    }
}

impl From<CatalogError> for Status {
    fn from(error: CatalogError) -> Self {
        ottr_runtime::to_status(error)
    }
}
