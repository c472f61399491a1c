//! Standard Webhooks signatures (standardwebhooks.com, as Svix and others send them): the
//! secret is `whsec_` and the base64 of 32 random bytes; a send's `webhook-signature` is
//! `v1,` and the base64 of HMAC-SHA256, keyed with those bytes, over
//! `<webhook-id>.<webhook-timestamp>.<body>`. A receiver recomputes it, compares in
//! constant time, and refuses a timestamp more than five minutes from its own clock.

use aws_lc_rs::{hmac, rand::SecureRandom};
use base64::{Engine, engine::general_purpose::STANDARD};

const PREFIX: &str = "whsec_";

/// A new endpoint secret.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    aws_lc_rs::rand::SystemRandom::new().fill(&mut key).expect("the system's random source works");
    format!("{PREFIX}{}", STANDARD.encode(key))
}

/// The `webhook-signature` value of one send.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key_bytes = STANDARD.decode(secret.trim_start_matches(PREFIX)).unwrap_or_else(|_| secret.as_bytes().to_vec());
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes);
    let mut context = hmac::Context::with_key(&key);
    context.update(format!("{id}.{timestamp}.").as_bytes());
    context.update(body);
    format!("v1,{}", STANDARD.encode(context.sign().as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_reference_vector() {
        // The example of the Standard Webhooks specification and its libraries' tests.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_new_each_time_and_32_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(STANDARD.decode(a.trim_start_matches(PREFIX)).unwrap().len(), 32);
    }
}
