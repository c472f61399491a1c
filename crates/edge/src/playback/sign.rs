//! Delivery URLs: the token stands for the asset, so a URL carries only the attempt and
//! the path inside it.

use ottr_storage::keys::{DeliveryKey, Tree};

/// The delivery URL of a stored key in `tree`. Empty when there is no such key (no poster
/// yet, say).
pub(super) fn signed_url(public_url: &str, token: &str, tree: Tree, key: &str) -> String {
    match DeliveryKey::parse(key) {
        Ok(key) if key.tree() == tree => format!("{public_url}/{}/{token}/{}", tree.as_str(), key.url_path()),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Tree, signed_url};

    const ASSET: &str = "4f2a3c1e-8b7d-4e6f-9a01-23456789abcd";

    #[test]
    fn keys_lose_their_root_and_asset() {
        let url = |tree, key: &str| signed_url("https://e.x", "tok", tree, key);
        assert_eq!(url(Tree::Hls, &format!("hls/{ASSET}/2/master.m3u8")), "https://e.x/hls/tok/2/master.m3u8");
        assert_eq!(url(Tree::Images, &format!("images/{ASSET}/2/poster.jpg")), "https://e.x/images/tok/2/poster.jpg");
        assert_eq!(url(Tree::Images, ""), "");
        assert_eq!(url(Tree::Hls, &format!("sources/{ASSET}/x")), "");
        assert_eq!(url(Tree::Hls, &format!("images/{ASSET}/2/poster.jpg")), "", "a key of the other tree");
    }
}
