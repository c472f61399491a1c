//! Passwords: length rules (NIST 800-63B: 8 to 128 characters, no composition rules) and
//! argon2id hashing, always off the async runtime because each hash takes tens of
//! milliseconds of CPU.

use std::sync::LazyLock;

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};

use crate::AuthError;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// A password that passed the length rules. Never printed.
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Password {
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        let chars = raw.chars().count();
        if !(MIN_CHARS..=MAX_CHARS).contains(&chars) {
            return Err(AuthError::InvalidPassword(format!(
                "password must have {MIN_CHARS} to {MAX_CHARS} characters"
            )));
        }
        Ok(Self(raw.to_owned()))
    }
}

/// A random password for accounts made from the command line: 20 characters from an
/// alphabet without look-alikes, about 114 bits. Rejection sampling keeps it unbiased.
pub fn generate() -> String {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let limit = 256 - 256 % ALPHABET.len();
    let rng = SystemRandom::new();
    let mut password = String::with_capacity(20);
    while password.len() < 20 {
        let mut byte = [0u8; 1];
        rng.fill(&mut byte).expect("the system has randomness");
        if usize::from(byte[0]) < limit {
            password.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
        }
    }
    password
}

/// OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes with a fresh random salt, on the calling thread (see [`crate::hashing`]).
pub fn hash_now(password: &Password) -> Result<String, AuthError> {
    argon2().hash_password(password.0.as_bytes()).map(|hash| hash.to_string()).map_err(AuthError::Argon2)
}

/// Hashes with a fresh random salt, off the async runtime and without any bound: for the
/// command line. Servers go through [`crate::hashing::Hasher`].
pub async fn hash(password: Password) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await.map_err(AuthError::Hashing)?
}

/// A hash of nothing anyone knows, verified against when the account does not exist,
/// so a wrong email costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    argon2()
        .hash_password(b"ottr dummy password, never a real one")
        .expect("hashing a constant cannot fail")
        .to_string()
});

/// Computes the dummy hash now rather than during the first sign-in.
pub async fn warm_up() {
    let _ = tokio::task::spawn_blocking(|| LazyLock::force(&DUMMY_HASH)).await;
}

/// True when `candidate` matches `stored`; with no stored hash, spends the same effort
/// and answers false. Runs on the calling thread.
pub fn verify_now(candidate: &str, stored: Option<&str>) -> Result<bool, AuthError> {
    let known = stored.is_some();
    let phc = stored.unwrap_or(DUMMY_HASH.as_str());
    let parsed = PasswordHash::new(phc).map_err(AuthError::StoredHash)?;
    // The parameters come from the stored hash, so older hashes keep verifying.
    let matches = argon2().verify_password(candidate.as_bytes(), &parsed).is_ok();
    Ok(known && matches)
}

/// [`verify_now`] off the async runtime, without any bound.
pub async fn verify(candidate: &str, stored: Option<String>) -> Result<bool, AuthError> {
    let candidate = candidate.to_owned();
    tokio::task::spawn_blocking(move || verify_now(&candidate, stored.as_deref())).await.map_err(AuthError::Hashing)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert!(Password::parse("ééééééé").is_err(), "7 characters, 14 bytes");
        assert!(Password::parse("éééééééé").is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }

    #[tokio::test]
    async fn a_hash_is_argon2id_with_the_owasp_parameters_and_verifies() {
        let hash = hash(Password::parse("correct horse").unwrap()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify("correct horse", Some(hash.clone())).await.unwrap());
        assert!(!verify("wrong horse", Some(hash)).await.unwrap());
        assert!(!verify("correct horse", None).await.unwrap());
    }
}
