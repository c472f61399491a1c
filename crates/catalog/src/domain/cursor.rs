//! Opaque page tokens for keyset pagination: the sort key of the last row served,
//! base64url-encoded JSON, so clients cannot depend on their shape.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Serialize, de::DeserializeOwned};

use crate::CatalogError;

pub fn encode<T: Serialize>(key: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("cursor keys serialize"))
}

/// `None` for an empty token (the first page).
pub fn decode<T: DeserializeOwned>(token: &str) -> Result<Option<T>, CatalogError> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = || CatalogError::invalid("page_token", "is not a token this service gave out");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map(Some).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let key = (1_700_000_000_123_456_i64, uuid::Uuid::new_v4());
        assert_eq!(decode::<(i64, uuid::Uuid)>(&encode(&key)).unwrap(), Some(key));
        assert_eq!(decode::<(i64, uuid::Uuid)>("").unwrap(), None);
        assert!(decode::<(i64, uuid::Uuid)>("not base64!").is_err());
        assert!(decode::<(i64, uuid::Uuid)>(&encode(&"other shape")).is_err());
    }
}
