//! Page tokens for lists sorted newest first: the last row's creation time (whole
//! microseconds, PostgreSQL's precision, so the token compares equal to its row) and id.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::MediaError;

pub fn encode(created_at: OffsetDateTime, id: Uuid) -> String {
    format!("{}.{id}", created_at.unix_timestamp_nanos() / 1_000)
}

/// `None` for the first page (an empty token).
pub fn decode(token: &str) -> Result<Option<(OffsetDateTime, Uuid)>, MediaError> {
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = || MediaError::Invalid { field: "page_token", message: "is not one this service gave".into() };
    let (micros, id) = token.split_once('.').ok_or_else(invalid)?;
    let micros: i128 = micros.parse().map_err(|_| invalid())?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).map_err(|_| invalid())?;
    Ok(Some((at, id.parse().map_err(|_| invalid())?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_row_exactly_and_a_forged_one_is_refused() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000).unwrap();
        let id = Uuid::new_v4();
        assert_eq!(decode(&encode(at, id)).unwrap(), Some((at, id)));
        assert_eq!(decode("").unwrap(), None);
        for forged in ["x", "1.2", "abc.4f2a3c1e-8b7d-4e6f-9a01-23456789abcd"] {
            assert!(decode(forged).is_err(), "{forged}");
        }
    }
}
