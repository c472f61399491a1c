//! The roles a bearer token claims, read without verifying it, in the gRPC relay (which
//! passes frames through and has no verifier). Only to refuse: GetPlayback is turned away
//! for a token whose roles are not staff, and one that claims staff still goes to media,
//! which verifies it on the same call; a forged token gains nothing here.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(crate) struct Claimed {
    #[serde(default)]
    pub roles: Vec<String>,
}

impl Claimed {
    /// Editors and admins see every asset; viewers only what the catalog shows them.
    pub(crate) fn is_staff(&self) -> bool {
        self.roles.iter().any(|r| r == "editor" || r == "admin")
    }
}

/// The claims of a `Bearer` JWT in `authorization`, if it has the shape of one.
pub(crate) fn claimed(authorization: Option<&http::HeaderValue>) -> Option<Claimed> {
    let token = authorization?.to_str().ok()?.strip_prefix("Bearer ")?;
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_read_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"u1","roles":["viewer"]}"#);
        let header = http::HeaderValue::try_from(format!("Bearer x.{payload}.y")).unwrap();
        let claims = claimed(Some(&header)).unwrap();
        assert!(!claims.is_staff());
        assert!(claimed(Some(&http::HeaderValue::from_static("Bearer nonsense"))).is_none());
    }
}
