//! Email addresses, normalised so one mailbox is one account.

use crate::AuthError;

/// A trimmed, lower-cased address of a plausible shape. Deliverability is not checked here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() || email.len() > 254 {
            return Err(AuthError::InvalidEmail("email must have 1 to 254 characters"));
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(AuthError::InvalidEmail("email must contain @"));
        };
        let shaped = !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !shaped {
            return Err(AuthError::InvalidEmail("email is not a valid address"));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(Email::parse("  Ada@Example.ORG ").unwrap().as_str(), "ada@example.org");
    }

    #[test]
    fn implausible_addresses_are_refused() {
        for raw in ["", "ada", "@example.org", "ada@", "ada@localhost", "a da@example.org", "ada@.org"] {
            assert!(Email::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }
}
