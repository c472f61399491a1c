//! The user code of TV sign-in: what a viewer reads off the screen and types on a phone.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::AuthError;

/// Upper-case consonants only, as RFC 8628 §6.1 suggests: no vowels, so no words are
/// spelled, and no digits to mistake for letters (0/O, 1/I).
const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const LENGTH: usize = 8;

/// Eight letters of `ALPHABET`, upper case, stored and compared without the dash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    /// A fresh code: 20^8 ≈ 2.6·10^10 values, about 34 bits, drawn without bias.
    pub fn generate() -> Result<Self, AuthError> {
        // The largest multiple of the alphabet's size below 256: bytes above it are drawn again.
        let limit = 256 - 256 % ALPHABET.len();
        let rng = SystemRandom::new();
        let mut code = String::with_capacity(LENGTH);
        while code.len() < LENGTH {
            let mut byte = [0u8; 1];
            rng.fill(&mut byte).map_err(AuthError::Randomness)?;
            if usize::from(byte[0]) < limit {
                code.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
            }
        }
        Ok(Self(code))
    }

    /// What a person typed: case, dashes and spaces do not matter. `None` when it cannot be
    /// a code at all (still counted as a wrong guess by the caller).
    pub fn parse(typed: &str) -> Option<Self> {
        let code: String =
            typed.chars().filter(|c| *c != '-' && !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
        let valid = code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b));
        valid.then_some(Self(code))
    }

    /// As stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As shown: `XXXX-XXXX`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..LENGTH / 2], &self.0[LENGTH / 2..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_code_is_eight_letters_of_the_alphabet_shown_with_a_dash() {
        let code = UserCode::generate().unwrap();
        assert_eq!(code.as_str().len(), 8);
        assert!(code.as_str().bytes().all(|b| ALPHABET.contains(&b)), "{code:?}");
        let shown = code.display();
        assert_eq!(shown.len(), 9);
        assert_eq!(&shown[4..5], "-");
        assert_eq!(UserCode::parse(&shown), Some(code));
    }

    #[test]
    fn typed_codes_ignore_case_dashes_and_spaces_but_not_other_letters() {
        assert_eq!(UserCode::parse(" bcdf-ghjk ").unwrap().as_str(), "BCDFGHJK");
        assert_eq!(UserCode::parse("BcDfGhJk").unwrap().as_str(), "BCDFGHJK");
        for wrong in ["", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-FGHJ", "BCDF-GH1K", "BCDF_GHJK"] {
            assert!(UserCode::parse(wrong).is_none(), "{wrong:?} was accepted");
        }
    }
}
