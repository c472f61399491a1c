//! `/api/v1/auth/*` and `/api/v1/me`, relayed to auth.

use axum::{Json, extract::State, http::HeaderMap};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use ottr_proto::auth::v1 as pb;

use super::Api;
use crate::{EdgeError, error::ErrorBody, upstream::forward};

#[derive(Deserialize, ToSchema)]
pub(super) struct Credentials {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct User {
    pub id: String,
    pub email: String,
    /// `viewer`, `editor`, `admin`.
    pub roles: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Disabled by an admin: cannot sign in or refresh.
    pub disabled: bool,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Session {
    pub user: Option<User>,
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub refresh_expires_at: i64,
}

impl From<pb::User> for User {
    fn from(u: pb::User) -> Self {
        let roles = u
            .roles
            .into_iter()
            .filter_map(|r| pb::Role::try_from(r).ok())
            .map(|r| r.as_str_name().trim_start_matches("ROLE_").to_lowercase())
            .collect();
        Self { id: u.id, email: u.email, roles, created_at: u.created_at, disabled: u.disabled }
    }
}

impl From<pb::Session> for Session {
    fn from(s: pb::Session) -> Self {
        Self {
            user: s.user.map(Into::into),
            access_token: s.access_token,
            expires_in: s.expires_in,
            refresh_token: s.refresh_token,
            refresh_expires_at: s.refresh_expires_at,
        }
    }
}

/// Creates a viewer account and signs it in.
#[utoipa::path(post, path = "/api/v1/auth/register", request_body = Credentials, tag = "auth",
    responses((status = 200, body = Session), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn register(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(body): Json<Credentials>,
) -> Result<Json<Session>, EdgeError> {
    let request = forward(&headers, pb::RegisterRequest { email: body.email, password: body.password });
    Ok(Json(api.upstream.auth.clone().register(request).await?.into_inner().into()))
}

/// Signs in. Throttled: `429 too_many_attempts` after repeated failures.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = Credentials, tag = "auth",
    responses((status = 200, body = Session), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(super) async fn login(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(body): Json<Credentials>,
) -> Result<Json<Session>, EdgeError> {
    let request = forward(&headers, pb::LoginRequest { email: body.email, password: body.password });
    Ok(Json(api.upstream.auth.clone().login(request).await?.into_inner().into()))
}

/// Spends a refresh token for a new session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", request_body = RefreshBody, tag = "auth",
    responses((status = 200, body = Session), (status = 401, body = ErrorBody)))]
pub(super) async fn refresh(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(body): Json<RefreshBody>,
) -> Result<Json<Session>, EdgeError> {
    let request = forward(&headers, pb::RefreshRequest { refresh_token: body.refresh_token });
    Ok(Json(api.upstream.auth.clone().refresh(request).await?.into_inner().into()))
}

/// Ends every session of the refresh token's sign-in.
#[utoipa::path(post, path = "/api/v1/auth/logout", request_body = RefreshBody, tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub(super) async fn logout(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(body): Json<RefreshBody>,
) -> Result<axum::http::StatusCode, EdgeError> {
    let request = forward(&headers, pb::LogoutRequest { refresh_token: body.refresh_token });
    api.upstream.auth.clone().logout(request).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The signed-in caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
pub(super) async fn me(State(api): State<Api>, headers: HeaderMap) -> Result<Json<User>, EdgeError> {
    Ok(Json(api.upstream.auth.clone().me(forward(&headers, pb::MeRequest {})).await?.into_inner().into()))
}
