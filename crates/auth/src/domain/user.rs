//! Accounts and their roles.

use ottr_proto::auth::v1 as pb;
use ottr_runtime::token::Role;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AuthError;

#[derive(Clone, Debug)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub roles: Vec<Role>,
    pub created_at: OffsetDateTime,
    /// Disabled by an admin: no sign-in, no refresh.
    pub disabled: bool,
}

impl From<User> for pb::User {
    fn from(user: User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email,
            roles: user.roles.into_iter().map(|r| r.to_proto() as i32).collect(),
            created_at: user.created_at.unix_timestamp(),
            disabled: user.disabled,
        }
    }
}

/// A non-empty, sorted set of roles without repeats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roles(Vec<Role>);

impl Roles {
    pub fn new(mut roles: Vec<Role>) -> Result<Self, AuthError> {
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(AuthError::InvalidRole("an account needs at least one role"));
        }
        Ok(Self(roles))
    }

    /// From the wire, refusing `ROLE_UNSPECIFIED` and unknown values.
    pub fn from_proto(values: &[i32]) -> Result<Self, AuthError> {
        let roles = values
            .iter()
            .map(|&v| Role::from_proto(v).ok_or(AuthError::InvalidRole("unknown role")))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(roles)
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|r| r.as_str().to_owned()).collect()
    }
}
