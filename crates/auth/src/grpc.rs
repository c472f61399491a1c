//! The `ottr.auth.v1.AuthService` handlers: wire types in, domain calls, wire types out.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use uuid::Uuid;

use ottr_proto::auth::v1::{self as pb, auth_service_server::AuthService};
use ottr_runtime::{
    client_addr::client_addr,
    token::{self, Caller, Role},
};

use crate::{
    AuthError,
    domain::{Email, Password, Roles},
    hashing::Hasher,
    keys::KeyRing,
    sessions::Sessions,
    store::users,
    throttle::LoginThrottle,
};

pub(crate) struct AuthApi {
    pub pool: sqlx::PgPool,
    pub sessions: Sessions,
    pub throttle: LoginThrottle,
    pub hasher: Hasher,
    pub keys: Arc<KeyRing>,
    pub rotation_delay: time::Duration,
}

/// The verified caller, holding `role` when one is named.
fn require<T>(request: &Request<T>, role: Option<Role>) -> Result<Caller, AuthError> {
    let caller = token::caller(request).ok_or(AuthError::Unauthenticated)?;
    match role {
        Some(role) if !caller.has(role) => Err(AuthError::PermissionDenied(role.as_str())),
        _ => Ok(caller.clone()),
    }
}

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

#[tonic::async_trait]
impl AuthService for AuthApi {
    #[tracing::instrument(skip_all)]
    async fn register(&self, request: Request<pb::RegisterRequest>) -> Result<Response<pb::Session>, Status> {
        let address = client_addr(&request);
        let body = request.into_inner();
        let email = Email::parse(&body.email)?;
        let password = Password::parse(&body.password)?;
        // Counted before the lookup below, so probing which emails exist is throttled too.
        self.throttle.reserve_registration(address).await?;
        // A taken email is refused before any hashing. That answers faster than a new
        // account would, but the answer itself already says `email_taken`, so timing
        // tells nothing more; hashing anyway would only hand out argon2 work for free.
        // The insert still maps the unique constraint, for two registrations racing.
        if users::email_exists(&self.pool, &email).await? {
            return Err(AuthError::EmailTaken.into());
        }
        let hash = self.hasher.hash(password).await?;
        let roles = Roles::new(vec![Role::Viewer])?;
        let user = users::insert(&self.pool, &email, &hash, &roles).await?;
        tracing::info!(user_id = %user.id, "account registered");
        Ok(Response::new(self.sessions.start(user).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::Session>, Status> {
        let address = client_addr(&request);
        let body = request.into_inner();
        // A malformed email cannot belong to an account: same answer as a wrong password.
        let email = Email::parse(&body.email).map_err(|_| AuthError::InvalidCredentials)?;
        self.throttle.reserve_login(&email, address).await?;
        let found = users::find_credentials(&self.pool, &email).await;
        let found = match found {
            Ok(found) => found,
            Err(error) => {
                self.throttle.release_login(&email, address).await;
                return Err(error.into());
            }
        };
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        let matches = match self.hasher.verify(&body.password, hash).await {
            Ok(matches) => matches,
            Err(error) => {
                // Never checked (busy, or our fault): not a guess to hold against anyone.
                self.throttle.release_login(&email, address).await;
                return Err(error.into());
            }
        };
        // A failure keeps its reservation: that is the count.
        let Some(user) = user.filter(|_| matches) else {
            return Err(AuthError::InvalidCredentials.into());
        };
        self.throttle.record_success(&email, address).await;
        Ok(Response::new(self.sessions.start(user).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn refresh(&self, request: Request<pb::RefreshRequest>) -> Result<Response<pb::Session>, Status> {
        let token = request.into_inner().refresh_token;
        Ok(Response::new(self.sessions.refresh(&token).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn logout(&self, request: Request<pb::LogoutRequest>) -> Result<Response<pb::LogoutResponse>, Status> {
        self.sessions.logout(&request.into_inner().refresh_token).await?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn me(&self, request: Request<pb::MeRequest>) -> Result<Response<pb::User>, Status> {
        let caller = require(&request, None)?;
        Ok(Response::new(users::get(&self.pool, caller.user_id).await?.into()))
    }

    #[tracing::instrument(skip_all)]
    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        require(&request, Some(Role::Admin))?;
        let body = request.into_inner();
        let size = match body.page_size {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let after = match body.page_token.as_str() {
            "" => None,
            token => Some(Uuid::parse_str(token).map_err(|_| AuthError::InvalidArgument("page_token is not valid"))?),
        };
        // One extra row tells whether there is a next page.
        let mut found = users::list(&self.pool, after, i64::from(size) + 1).await?;
        let next_page_token = if found.len() > size as usize {
            found.truncate(size as usize);
            found.last().map(|u| u.id.to_string()).unwrap_or_default()
        } else {
            String::new()
        };
        let users = found.into_iter().map(Into::into).collect();
        Ok(Response::new(pb::ListUsersResponse { users, next_page_token }))
    }

    #[tracing::instrument(skip_all)]
    async fn set_roles(&self, request: Request<pb::SetRolesRequest>) -> Result<Response<pb::User>, Status> {
        let admin = require(&request, Some(Role::Admin))?;
        let body = request.into_inner();
        let id = Uuid::parse_str(&body.user_id).map_err(|_| AuthError::UserNotFound)?;
        let roles = Roles::from_proto(&body.roles)?;
        let user = users::set_roles(&self.pool, id, &roles).await?;
        tracing::info!(admin = %admin.user_id, user_id = %user.id, roles = ?user.roles, "roles set");
        Ok(Response::new(user.into()))
    }

    #[tracing::instrument(skip_all)]
    async fn rotate_signing_key(
        &self,
        request: Request<pb::RotateSigningKeyRequest>,
    ) -> Result<Response<pb::RotateSigningKeyResponse>, Status> {
        let admin = require(&request, Some(Role::Admin))?;
        let (kid, active_from) = self.keys.rotate(self.rotation_delay).await?;
        tracing::info!(admin = %admin.user_id, %kid, %active_from, "signing key rotated");
        Ok(Response::new(pb::RotateSigningKeyResponse { kid, active_from: active_from.unix_timestamp() }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_jwks(&self, _request: Request<pb::GetJwksRequest>) -> Result<Response<pb::Jwks>, Status> {
        Ok(Response::new(pb::Jwks { keys: self.keys.published().await? }))
    }
}
