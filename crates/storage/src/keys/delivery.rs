//! The key of one object the edge delivers (`hls/<asset>/<attempt>/<relative>` or
//! `images/…`), built from typed parts or parsed back from a stored key or a URL path, so
//! neither media nor the edge cuts key strings by hand.

use std::fmt;

use uuid::Uuid;

use super::{Tree, check};
use crate::StorageError;

/// A checked key: the relative part cannot climb out of its attempt's folder, and the
/// text form round-trips through [`DeliveryKey::parse`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeliveryKey {
    tree: Tree,
    asset: Uuid,
    attempt: i32,
    /// The whole key, built once: every store call and cache lookup wants it as text.
    key: String,
}

impl DeliveryKey {
    pub fn new(tree: Tree, asset: Uuid, attempt: i32, relative: &str) -> Result<Self, StorageError> {
        let key = format!("{}/{asset}/{attempt}/{relative}", tree.as_str());
        if attempt < 0 {
            return Err(StorageError::BadKey(key));
        }
        check(relative).map_err(|_| StorageError::BadKey(key.clone()))?;
        check(&key)?;
        Ok(Self { tree, asset, attempt, key })
    }

    /// A stored key, as media records it (`hls/<asset>/<attempt>/master.m3u8`).
    pub fn parse(key: &str) -> Result<Self, StorageError> {
        let bad = || StorageError::BadKey(key.to_owned());
        let (tree, rest) = key.split_once('/').ok_or_else(bad)?;
        let tree = Tree::parse(tree).ok_or_else(bad)?;
        let (asset, rest) = rest.split_once('/').ok_or_else(bad)?;
        let parsed = Uuid::try_parse(asset).map_err(|_| bad())?;
        // Only the canonical spelling, so that a key names one object and prints back as given.
        if parsed.hyphenated().to_string() != asset {
            return Err(bad());
        }
        Self::from_url_path(tree, parsed, rest).map_err(|_| bad())
    }

    /// What follows the token in a delivery URL (`<attempt>/<relative>`), for the asset
    /// the token was signed for.
    pub fn from_url_path(tree: Tree, asset: Uuid, path: &str) -> Result<Self, StorageError> {
        let bad = || StorageError::BadKey(path.to_owned());
        let (attempt, relative) = path.split_once('/').ok_or_else(bad)?;
        let number: i32 = attempt.parse().map_err(|_| bad())?;
        if number.to_string() != attempt {
            return Err(bad()); // `+1`, `01`: another spelling of the same attempt
        }
        Self::new(tree, asset, number, relative)
    }

    /// The inverse of [`DeliveryKey::from_url_path`].
    pub fn url_path(&self) -> &str {
        let head = self.tree.as_str().len() + 1 + uuid::fmt::Hyphenated::LENGTH + 1;
        &self.key[head..]
    }

    pub fn tree(&self) -> Tree {
        self.tree
    }

    pub fn asset(&self) -> Uuid {
        self.asset
    }

    pub fn attempt(&self) -> i32 {
        self.attempt
    }

    /// The path inside the attempt's folder (`720p/seg_00001.m4s`).
    pub fn relative(&self) -> &str {
        let within = self.url_path();
        within.split_once('/').map_or(within, |(_, relative)| relative)
    }

    pub fn as_str(&self) -> &str {
        &self.key
    }

    pub fn content_type(&self) -> &'static str {
        super::content_type(&self.key)
    }
}

impl fmt::Display for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

impl std::str::FromStr for DeliveryKey {
    type Err = StorageError;

    fn from_str(key: &str) -> Result<Self, Self::Err> {
        Self::parse(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSET: &str = "4f2a3c1e-8b7d-4e6f-9a01-23456789abcd";

    fn asset() -> Uuid {
        ASSET.parse().unwrap()
    }

    #[test]
    fn a_key_round_trips_through_its_text_and_its_url_path() {
        for (tree, attempt, relative) in
            [(Tree::Hls, 2, "master.m3u8"), (Tree::Hls, 1, "720p/seg_00001.m4s"), (Tree::Images, 12, "poster.jpg")]
        {
            let key = DeliveryKey::new(tree, asset(), attempt, relative).unwrap();
            assert_eq!(key.as_str(), format!("{}/{ASSET}/{attempt}/{relative}", tree.as_str()));
            assert_eq!(DeliveryKey::parse(key.as_str()).unwrap(), key);
            assert_eq!(key.to_string().parse::<DeliveryKey>().unwrap(), key);
            assert_eq!(key.url_path(), format!("{attempt}/{relative}"));
            assert_eq!(DeliveryKey::from_url_path(tree, asset(), key.url_path()).unwrap(), key);
            assert_eq!((key.tree(), key.asset(), key.attempt(), key.relative()), (tree, asset(), attempt, relative));
        }
    }

    #[test]
    fn stored_keys_lose_their_tree_and_asset_in_urls() {
        let master = DeliveryKey::parse(&format!("hls/{ASSET}/2/master.m3u8")).unwrap();
        assert_eq!(master.url_path(), "2/master.m3u8");
        assert_eq!(master.content_type(), "application/vnd.apple.mpegurl");
        let poster = DeliveryKey::parse(&format!("images/{ASSET}/2/poster.jpg")).unwrap();
        assert_eq!(poster.url_path(), "2/poster.jpg");
        assert_eq!(poster.content_type(), "image/jpeg");
        assert!(DeliveryKey::parse("").is_err());
        assert!(DeliveryKey::parse(&format!("sources/{ASSET}/source.mp4")).is_err(), "not a delivered tree");
    }

    #[test]
    fn traversal_is_refused_in_every_part() {
        for path in ["1/../../sources/x/source.mp4", "1/..", "../1/master.m3u8", "1/a//b", "1/", "1", "/1/x", "1/a\\b"]
        {
            assert!(DeliveryKey::from_url_path(Tree::Hls, asset(), path).is_err(), "{path}");
        }
        assert!(DeliveryKey::new(Tree::Hls, asset(), 1, "../../etc/passwd").is_err());
        assert!(DeliveryKey::new(Tree::Images, asset(), 1, "").is_err());
    }

    #[test]
    fn only_the_canonical_spelling_of_an_attempt_or_asset_is_a_key() {
        for path in ["+1/master.m3u8", "01/master.m3u8", "-1/master.m3u8", "x/master.m3u8", " 1/master.m3u8"] {
            assert!(DeliveryKey::from_url_path(Tree::Hls, asset(), path).is_err(), "{path}");
        }
        let upper = ASSET.to_uppercase();
        let simple = ASSET.replace('-', "");
        for spelling in [upper.as_str(), simple.as_str(), "not-a-uuid"] {
            assert!(DeliveryKey::parse(&format!("hls/{spelling}/1/master.m3u8")).is_err(), "{spelling}");
        }
    }
}
