//! Tokens from outside: a bearer access token (JWT) checked by every service's verifier,
//! and a signed playback token checked by the edge. Neither may panic, and a forged one
//! must never be accepted.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use ottr_edge::hls::token::Signer;
use ottr_proto::auth::v1::Jwk;
use ottr_runtime::{
    config::TokenSettings,
    token::{JwksFuture, JwksSource, TokenVerifier},
};

/// One published key (RFC 8037's example Ed25519 public key), whose private half the
/// fuzzer does not have.
struct OneKey;

impl JwksSource for OneKey {
    fn fetch(&self) -> JwksFuture<'_> {
        Box::pin(async {
            Ok(vec![Jwk {
                kid: "fuzz".into(),
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".into(),
                alg: "EdDSA".into(),
                ..Default::default()
            }])
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let verifier = TokenVerifier::new(&TokenSettings::default(), Arc::new(OneKey));
    assert!(runtime.block_on(verifier.verify(text)).is_err(), "a token the fuzzer made up was accepted");
    assert!(Signer::new(b"fuzz-secret").verify(text, 0).is_err(), "a forged playback token was accepted");
});
