//! Access tokens as every service sees them: the claims auth signs, the verified caller,
//! the verifier that checks a token against auth's published keys and ended sessions, and
//! the tower layer that puts the caller into each request.

mod claims;
mod layer;
mod revocation;
mod verifier;

pub use claims::{ACCESS_TYP, AccessClaims, HEADER_TYP, Role};
pub use layer::{AuthLayer, AuthService, bearer, caller};
pub use revocation::Revocations;
pub use verifier::{GrpcJwksSource, JwksFuture, JwksSource, TokenError, TokenVerifier};

/// Who is calling, as proven by a verified access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: uuid::Uuid,
    pub roles: Vec<Role>,
    /// The session the token belongs to (its refresh-token family), when it names one.
    pub session_id: Option<uuid::Uuid>,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}
