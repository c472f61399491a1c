//! Plain catalog types, validated when made from the wire.

pub mod access;
pub mod cursor;
pub mod episode;
pub mod maturity;
pub mod progress;
pub mod title;
pub mod views;

pub use access::Scope;
pub use episode::EpisodeFields;
pub use title::{Credit, Kind, TitleFields, Visibility};

use crate::CatalogError;

/// An id from the wire; `field` names it in the error.
pub fn parse_id(field: &'static str, raw: &str) -> Result<uuid::Uuid, CatalogError> {
    uuid::Uuid::parse_str(raw).map_err(|_| CatalogError::invalid(field, "must be a UUID"))
}

/// An optional id from the wire: empty means none.
pub fn parse_optional_id(field: &'static str, raw: &str) -> Result<Option<uuid::Uuid>, CatalogError> {
    if raw.is_empty() { Ok(None) } else { parse_id(field, raw).map(Some) }
}

/// Text with a length limit in characters; `required` refuses empty (after trimming).
pub fn text(field: &'static str, raw: &str, max: usize, required: bool) -> Result<String, CatalogError> {
    let trimmed = raw.trim();
    if required && trimmed.is_empty() {
        return Err(CatalogError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(CatalogError::invalid(field, format!("must have at most {max} characters")));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err(CatalogError::invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Page sizes: 0 means the default; larger than the maximum is clamped.
pub fn page_size(requested: u32, default: u32, max: u32) -> i64 {
    i64::from(if requested == 0 { default } else { requested.min(max) })
}
