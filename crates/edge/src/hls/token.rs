//! Playback tokens: `<asset>.<expiry>.<mac>`, an HMAC-SHA256 over the asset id and the
//! expiry. The token sits in the URL path, so the relative URIs inside playlists keep it,
//! and every playlist, init segment and segment request is checked, so a leaked segment
//! URL expires with its token.

use aws_lc_rs::hmac;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    #[error("the playback token is not valid")]
    Invalid,
    #[error("the playback token has expired")]
    Expired,
}

pub struct Signer {
    key: hmac::Key,
}

impl Signer {
    pub fn new(secret: &[u8]) -> Self {
        Self { key: hmac::Key::new(hmac::HMAC_SHA256, secret) }
    }

    fn mac(&self, asset: Uuid, expires: i64) -> String {
        let payload = format!("{}.{expires}", asset.simple());
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, payload.as_bytes()).as_ref())
    }

    pub fn sign(&self, asset: Uuid, expires: i64) -> String {
        format!("{}.{expires}.{}", asset.simple(), self.mac(asset, expires))
    }

    /// The asset the token grants, if the token is genuine and not expired at `now`.
    pub fn verify(&self, token: &str, now: i64) -> Result<Uuid, TokenProblem> {
        let mut parts = token.split('.');
        let (Some(asset), Some(expires), Some(mac), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenProblem::Invalid);
        };
        let asset = Uuid::try_parse(asset).map_err(|_| TokenProblem::Invalid)?;
        let expires: i64 = expires.parse().map_err(|_| TokenProblem::Invalid)?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| TokenProblem::Invalid)?;
        let payload = format!("{}.{expires}", asset.simple());
        // Constant-time comparison inside aws-lc.
        hmac::verify(&self.key, payload.as_bytes(), &mac).map_err(|_| TokenProblem::Invalid)?;
        if expires < now {
            return Err(TokenProblem::Expired);
        }
        Ok(asset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_grants_its_asset_until_it_expires() {
        let signer = Signer::new(b"secret");
        let asset = Uuid::new_v4();
        let token = signer.sign(asset, 1000);
        assert_eq!(signer.verify(&token, 999), Ok(asset));
        assert_eq!(signer.verify(&token, 1001), Err(TokenProblem::Expired));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_invalid() {
        let signer = Signer::new(b"secret");
        let asset = Uuid::new_v4();
        let token = signer.sign(asset, 1000);
        let other = Uuid::new_v4();
        let moved = token.replacen(&asset.simple().to_string(), &other.simple().to_string(), 1);
        let extended = token.replacen(".1000.", ".9999.", 1);
        let foreign = Signer::new(b"another secret").sign(asset, 1000);
        for bad in [moved.as_str(), extended.as_str(), foreign.as_str(), "", "a.b", "x.1.y.z", &format!("{token}x")] {
            assert_eq!(signer.verify(bad, 0), Err(TokenProblem::Invalid), "{bad}");
        }
    }
}
