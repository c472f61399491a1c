//! Who is uploading: the bearer token verified here with the runtime's [`TokenVerifier`]
//! (keys from auth's JWKS, cached), as every service verifies it, instead of asking auth
//! on every tus HEAD and PATCH. Only editors and admins upload.
//!
//! [`TokenVerifier`]: ottr_runtime::token::TokenVerifier

use axum::{extract::FromRequestParts, http::request::Parts};
use ottr_runtime::token::{self, Caller, Role};

use crate::{EdgeError, rest::Api};

/// An editor or admin with a verified token.
pub(super) struct Uploader(pub Caller);

impl Uploader {
    /// The id uploads are owned by.
    pub(super) fn owner(&self) -> String {
        self.0.user_id.to_string()
    }
}

impl FromRequestParts<Api> for Uploader {
    type Rejection = EdgeError;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, EdgeError> {
        let bearer = token::bearer(&parts.headers).ok_or(EdgeError::Unauthenticated)??;
        let caller = api.verifier.verify(&bearer).await?;
        if !(caller.has(Role::Editor) || caller.has(Role::Admin)) {
            return Err(EdgeError::PermissionDenied("only editors and admins upload"));
        }
        Ok(Self(caller))
    }
}
