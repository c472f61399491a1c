//! The `ottr.auth.v1.AuthService` handlers: wire types in, domain calls, wire types out.
//! Account changes and TV sign-in have their own files.

mod accounts;
mod device;

use std::{net::IpAddr, sync::Arc};

use tonic::{Request, Response, Status};
use uuid::Uuid;

use ottr_proto::auth::v1::{self as pb, auth_service_server::AuthService};
use ottr_runtime::{
    client_addr::client_addr,
    token::{self, Caller, Role},
};

use crate::{
    AuthError,
    config::DeviceSettings,
    domain::{Email, Password, Roles, User},
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
    pub device: DeviceSettings,
}

/// The verified caller, holding `role` when one is named.
fn require<T>(request: &Request<T>, role: Option<Role>) -> Result<Caller, AuthError> {
    let caller = token::caller(request).ok_or(AuthError::Unauthenticated)?;
    match role {
        Some(role) if !caller.has(role) => Err(AuthError::PermissionDenied(role.as_str())),
        _ => Ok(caller.clone()),
    }
}

impl AuthApi {
    /// Checks the password of the account with `email` (an unknown one costs the same),
    /// throttled per account and per address like every sign-in: a wrong password keeps
    /// its attempt's count, a right one clears the account's. Answers the account and the
    /// hash the password matched.
    pub(crate) async fn check_password(
        &self,
        email: &Email,
        address: Option<IpAddr>,
        password: &str,
    ) -> Result<(User, String), AuthError> {
        self.throttle.reserve_login(email, address).await?;
        let found = match users::find_credentials(&self.pool, email).await {
            Ok(found) => found,
            Err(error) => {
                self.throttle.release_login(email, address).await;
                return Err(error);
            }
        };
        let (user, hash) = found.unzip();
        let matches = match self.hasher.verify(password, hash.clone()).await {
            Ok(matches) => matches,
            Err(error) => {
                // Never checked (busy, or our fault): not a guess to hold against anyone.
                self.throttle.release_login(email, address).await;
                return Err(error);
            }
        };
        // A failure keeps its reservation: that is the count.
        match (user, hash) {
            (Some(user), Some(hash)) if matches => {
                self.throttle.record_success(email, address).await;
                Ok((user, hash))
            }
            _ => Err(AuthError::InvalidCredentials),
        }
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
        Ok(Response::new(self.sessions.start(user.id, None).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::Session>, Status> {
        let address = client_addr(&request);
        let body = request.into_inner();
        // A malformed email cannot belong to an account: same answer as a wrong password.
        let email = Email::parse(&body.email).map_err(|_| AuthError::InvalidCredentials)?;
        let (user, hash) = self.check_password(&email, address, &body.password).await?;
        // Said only to whoever knows the password, so it tells a guesser nothing.
        if user.disabled {
            return Err(AuthError::AccountDisabled.into());
        }
        Ok(Response::new(self.sessions.start(user.id, Some(&hash)).await?))
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
        let user = self.set_roles_of(request.into_inner()).await?;
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

    #[tracing::instrument(skip_all)]
    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        let caller = require(&request, None)?;
        let address = client_addr(&request);
        Ok(Response::new(self.change_password_of(&caller, address, request.into_inner()).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_account(
        &self,
        request: Request<pb::DeleteAccountRequest>,
    ) -> Result<Response<pb::DeleteAccountResponse>, Status> {
        let caller = require(&request, None)?;
        let address = client_addr(&request);
        Ok(Response::new(self.delete_account_of(&caller, address, request.into_inner()).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn set_disabled(&self, request: Request<pb::SetDisabledRequest>) -> Result<Response<pb::User>, Status> {
        let admin = require(&request, Some(Role::Admin))?;
        Ok(Response::new(self.set_disabled_by(&admin, request.into_inner()).await?.into()))
    }

    #[tracing::instrument(skip_all)]
    async fn lookup_users(
        &self,
        request: Request<pb::LookupUsersRequest>,
    ) -> Result<Response<pb::LookupUsersResponse>, Status> {
        let caller = require(&request, None)?;
        if !caller.has(Role::Editor) && !caller.has(Role::Admin) {
            return Err(AuthError::PermissionDenied("editor or admin").into());
        }
        Ok(Response::new(self.lookup(request.into_inner()).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn start_device_authorization(
        &self,
        request: Request<pb::StartDeviceAuthorizationRequest>,
    ) -> Result<Response<pb::DeviceAuthorization>, Status> {
        let address = client_addr(&request);
        Ok(Response::new(self.start_device(address).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn approve_device(
        &self,
        request: Request<pb::ApproveDeviceRequest>,
    ) -> Result<Response<pb::ApproveDeviceResponse>, Status> {
        let caller = require(&request, None)?;
        let address = client_addr(&request);
        self.decide_device(&caller, address, request.into_inner()).await?;
        Ok(Response::new(pb::ApproveDeviceResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn poll_device_token(
        &self,
        request: Request<pb::PollDeviceTokenRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        Ok(Response::new(self.poll_device(&request.into_inner().device_code).await?))
    }
}
