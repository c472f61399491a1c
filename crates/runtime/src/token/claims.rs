//! The claims of an ottr access token and the roles they carry.

use serde::{Deserialize, Serialize};

use ottr_proto::auth::v1 as pb;

/// The `typ` claim of an access token. Verifiers insist on it, so that no other kind of
/// token signed with the same key can pass for one.
pub const ACCESS_TYP: &str = "access";
/// The JOSE header `typ` of an access token (RFC 9068).
pub const HEADER_TYP: &str = "at+jwt";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub roles: Vec<String>,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub typ: String,
    /// The session: the refresh-token family the token was issued for. Ending the session
    /// voids its access tokens at once (see `revocation`). Absent from tokens issued
    /// before sessions were named, which then live until they expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// What an account may do. `viewer` watches, `editor` manages content, `admin` manages users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The wire enum; `None` for `ROLE_UNSPECIFIED` and values this build does not know.
    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::Role::try_from(value).ok()? {
            pb::Role::Viewer => Some(Role::Viewer),
            pb::Role::Editor => Some(Role::Editor),
            pb::Role::Admin => Some(Role::Admin),
            pb::Role::Unspecified => None,
        }
    }

    pub fn to_proto(self) -> pb::Role {
        match self {
            Role::Viewer => pb::Role::Viewer,
            Role::Editor => pb::Role::Editor,
            Role::Admin => pb::Role::Admin,
        }
    }
}
