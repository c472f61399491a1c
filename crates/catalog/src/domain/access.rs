//! Who sees what: editors and admins see drafts and write; everyone else sees what is
//! published, and unlisted titles only when they ask for them by id or slug.

use ottr_runtime::token::{Caller, Role};

use super::Visibility;
use crate::CatalogError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Anonymous callers and viewers.
    Public,
    /// Editors and admins.
    Staff,
}

impl Scope {
    pub fn of(caller: Option<&Caller>) -> Self {
        match caller {
            Some(c) if c.has(Role::Editor) || c.has(Role::Admin) => Scope::Staff,
            _ => Scope::Public,
        }
    }

    /// For writes: staff only.
    pub fn require_staff(caller: Option<&Caller>) -> Result<(), CatalogError> {
        match (caller, Self::of(caller)) {
            (None, _) => Err(CatalogError::Unauthenticated),
            (Some(_), Scope::Public) => Err(CatalogError::PermissionDenied),
            (Some(_), Scope::Staff) => Ok(()),
        }
    }

    /// Whether a title of this visibility may be shown when asked for directly.
    pub fn may_open(self, visibility: Visibility) -> bool {
        self == Scope::Staff || visibility != Visibility::Draft
    }

    /// Whether a title of this visibility may appear in lists and search results.
    pub fn may_list(self, visibility: Visibility) -> bool {
        self == Scope::Staff || visibility == Visibility::Published
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Public => "public",
            Scope::Staff => "staff",
        }
    }
}
