//! Maturity ratings on one scale, so a kids profile's limit applies whatever system a
//! title was rated in (MPA film ratings, US TV Parental Guidelines, BBFC): 0 all ages,
//! 1 from 7, 2 from 13, 3 adults. A title with no rating, or one not known here, counts as
//! adult: a kids profile shows only what someone rated for it.
//!
//! The migration `20261203000005_catalog_profiles.sql` has the same table as the SQL
//! function `catalog.maturity_level`, for filtering in queries; a test keeps them equal.

use crate::CatalogError;

/// Unrated or unknown: above every kids limit.
pub const UNRATED: i32 = 4;

/// What a kids profile gets when it names no limit.
pub const KIDS_DEFAULT: &str = "PG";

pub fn level(rating: &str) -> i32 {
    match rating.trim().to_ascii_uppercase().as_str() {
        "G" | "TV-Y" | "TV-G" | "U" => 0,
        "PG" | "TV-Y7" | "TV-Y7-FV" | "TV-PG" => 1,
        "PG-13" | "TV-14" | "12" | "12A" => 2,
        "R" | "NC-17" | "TV-MA" | "15" | "18" | "R18" => 3,
        _ => UNRATED,
    }
}

/// A profile's limit from the wire: none for a grown-up profile; for a kids profile the
/// rating named (which must be one this scale knows), or [`KIDS_DEFAULT`].
pub fn profile_limit(kids: bool, rating: &str) -> Result<Option<String>, CatalogError> {
    if !kids {
        return Ok(None);
    }
    let rating = match rating.trim() {
        "" => KIDS_DEFAULT.to_owned(),
        named => named.to_ascii_uppercase(),
    };
    if level(&rating) >= 3 {
        return Err(CatalogError::invalid(
            "max_maturity_rating",
            "must be a rating for children or teenagers (G, PG, PG-13, TV-Y, TV-Y7, TV-G, TV-PG, TV-14 …)",
        ));
    }
    Ok(Some(rating))
}

/// Whether a title rated `rating` may be shown under `limit` (a profile's level).
pub fn allows(limit: Option<i32>, rating: &str) -> bool {
    limit.is_none_or(|max| level(rating) <= max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_of_every_system_share_the_scale_and_the_unrated_are_adult() {
        assert_eq!(level("tv-y7"), level("PG"));
        assert!(level("G") < level("PG-13") && level("PG-13") < level("R"));
        assert_eq!(level(""), UNRATED);
        assert_eq!(level("NOT A RATING"), UNRATED);
        assert!(allows(None, ""), "a grown-up profile sees everything");
        assert!(allows(Some(1), "TV-G") && !allows(Some(1), "PG-13") && !allows(Some(2), ""));
    }

    #[test]
    fn a_kids_profile_gets_a_childrens_limit() {
        assert_eq!(profile_limit(false, "R").unwrap(), None);
        assert_eq!(profile_limit(true, "").unwrap().as_deref(), Some("PG"));
        assert_eq!(profile_limit(true, "tv-14").unwrap().as_deref(), Some("TV-14"));
        assert!(profile_limit(true, "R").is_err());
        assert!(profile_limit(true, "whatever").is_err());
    }
}
