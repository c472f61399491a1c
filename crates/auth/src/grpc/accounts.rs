//! Changes to an account: its own password and deletion, an admin disabling it, and the
//! staff's lookup of who accounts are. Whatever ends sessions ends their access tokens too
//! (`Sessions::announce_ended`), after the change is committed.

use std::net::IpAddr;

use uuid::Uuid;

use ottr_proto::auth::v1 as pb;
use ottr_runtime::token::{Caller, Role};

use super::AuthApi;
use crate::{
    AuthError,
    domain::{Email, Password, Roles, User},
    store::users,
};

/// The most ids one LookupUsers may name.
const MAX_LOOKUP: usize = 100;

impl AuthApi {
    /// The caller's email, as sign-in knows it (stored normalised).
    async fn email_of(&self, user_id: Uuid) -> Result<Email, AuthError> {
        Email::parse(&users::get(&self.pool, user_id).await?.email)
    }

    /// The new password is checked first: a refusal for its length costs no attempt.
    pub(super) async fn change_password_of(
        &self,
        caller: &Caller,
        address: Option<IpAddr>,
        body: pb::ChangePasswordRequest,
    ) -> Result<pb::ChangePasswordResponse, AuthError> {
        let new = Password::parse(&body.new_password)?;
        let email = self.email_of(caller.user_id).await?;
        let (_, verified) = self.check_password(&email, address, &body.current_password).await?;
        let hash = self.hasher.hash(new).await?;
        let mut tx = self.pool.begin().await?;
        // Against the hash just checked: a change racing this one makes this one fail.
        users::set_password(&mut tx, caller.user_id, &verified, &hash).await?;
        // The calling session is the one its access token names. A token from before
        // sessions were named keeps none, so every session ends, the caller's included.
        let ended = self.sessions.revoke_all(&mut tx, caller.user_id, caller.session_id).await?;
        tx.commit().await?;
        self.sessions.announce_ended(&ended.with_live_tokens).await;
        tracing::info!(user_id = %caller.user_id, sessions_ended = ended.count, "password changed");
        Ok(pb::ChangePasswordResponse { sessions_ended: u32::try_from(ended.count).unwrap_or(u32::MAX) })
    }

    pub(super) async fn delete_account_of(
        &self,
        caller: &Caller,
        address: Option<IpAddr>,
        body: pb::DeleteAccountRequest,
    ) -> Result<pb::DeleteAccountResponse, AuthError> {
        let email = self.email_of(caller.user_id).await?;
        let (_, verified) = self.check_password(&email, address, &body.password).await?;
        let user_id = caller.user_id.to_string();
        let mut tx = self.pool.begin().await?;
        // Checked on the check-only call too: the edge erases the catalog's data between
        // the two, and must not for an account that is then refused.
        users::keep_an_admin(&mut tx, caller.user_id).await?;
        if body.check_only {
            return Ok(pb::DeleteAccountResponse { user_id });
        }
        // Locked first, so a sign-in racing this either ends before (and its session is
        // revoked below) or waits and finds no account.
        let (_, current) = users::lock_credentials(&mut tx, caller.user_id, users::Lock::Update).await?;
        if current != verified {
            return Err(AuthError::InvalidCredentials);
        }
        // Revoked first only to learn which sessions may hold live access tokens: the
        // families themselves go with the account.
        let ended = self.sessions.revoke_all(&mut tx, caller.user_id, None).await?;
        users::delete(&mut tx, caller.user_id).await?;
        tx.commit().await?;
        self.sessions.announce_ended(&ended.with_live_tokens).await;
        tracing::info!(%user_id, "account deleted");
        Ok(pb::DeleteAccountResponse { user_id })
    }

    /// Replaces an account's roles; the only enabled admin keeps theirs (`last_admin`). A
    /// role taken away ends the account's sessions at once: its access tokens still name
    /// the role until they expire, and a demoted admin's could otherwise give it back.
    pub(super) async fn set_roles_of(&self, body: pb::SetRolesRequest) -> Result<User, AuthError> {
        let id = Uuid::parse_str(&body.user_id).map_err(|_| AuthError::UserNotFound)?;
        let roles = Roles::from_proto(&body.roles)?;
        let mut tx = self.pool.begin().await?;
        if !roles.contains(Role::Admin) {
            users::keep_an_admin(&mut tx, id).await?;
        }
        // Locked, so a change of roles committing meanwhile is not missed: `before` is what
        // this change replaces.
        let (before, _) = users::lock_credentials(&mut tx, id, users::Lock::Update).await?;
        let user = users::set_roles(&mut tx, id, &roles).await?;
        let ended = match before.roles.iter().any(|role| !roles.contains(*role)) {
            true => Some(self.sessions.revoke_all(&mut tx, id, None).await?),
            false => None,
        };
        tx.commit().await?;
        if let Some(ended) = &ended {
            self.sessions.announce_ended(&ended.with_live_tokens).await;
        }
        let sessions_ended = ended.map_or(0, |e| e.count);
        tracing::info!(user_id = %id, roles = ?roles.names(), sessions_ended, "roles set");
        Ok(user)
    }

    pub(super) async fn set_disabled_by(
        &self,
        admin: &Caller,
        body: pb::SetDisabledRequest,
    ) -> Result<User, AuthError> {
        let id = Uuid::parse_str(&body.user_id).map_err(|_| AuthError::UserNotFound)?;
        if body.disabled && id == admin.user_id {
            return Err(AuthError::CannotDisableSelf);
        }
        let mut tx = self.pool.begin().await?;
        if body.disabled {
            // Demotion ends a demoted admin's sessions, but while Redis is away verifiers
            // accept their tokens (revocations unseen): the last enabled admin stays anyway.
            users::keep_an_admin(&mut tx, id).await?;
        }
        let user = users::set_disabled(&mut tx, id, body.disabled).await?;
        let ended = match body.disabled {
            true => Some(self.sessions.revoke_all(&mut tx, id, None).await?),
            false => None,
        };
        tx.commit().await?;
        if let Some(ended) = &ended {
            self.sessions.announce_ended(&ended.with_live_tokens).await;
        }
        let sessions_ended = ended.map_or(0, |e| e.count);
        tracing::info!(admin = %admin.user_id, user_id = %id, disabled = body.disabled, sessions_ended, "account state set");
        Ok(user)
    }

    pub(super) async fn lookup(&self, body: pb::LookupUsersRequest) -> Result<pb::LookupUsersResponse, AuthError> {
        if body.user_ids.len() > MAX_LOOKUP {
            return Err(AuthError::InvalidArgument("at most 100 user_ids at once"));
        }
        let ids = body
            .user_ids
            .iter()
            .map(|id| Uuid::parse_str(id).map_err(|_| AuthError::InvalidArgument("user_ids must be account ids")))
            .collect::<Result<Vec<_>, _>>()?;
        let users = users::lookup(&self.pool, &ids).await?;
        let users = users.into_iter().map(|(id, email)| pb::UserSummary { id: id.to_string(), email }).collect();
        Ok(pb::LookupUsersResponse { users })
    }
}
