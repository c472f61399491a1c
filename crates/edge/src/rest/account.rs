//! Accounts, relayed to auth: `PUT /api/v1/me/password`, `DELETE /api/v1/me`, an admin's
//! `PUT /api/v1/users/{id}/disabled`, the staff's `GET /api/v1/users?ids=…`, and TV sign-in
//! (RFC 8628's device flow) under `/api/v1/device/*`. Every refusal is auth's, passed on
//! with its code.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use ottr_proto::auth::v1 as pb;

use super::{
    Api,
    auth::{Session, User},
};
use crate::{EdgeError, error::ErrorBody, upstream::forward};

#[derive(Deserialize, ToSchema)]
pub(super) struct PasswordChange {
    pub current_password: String,
    /// 8 to 128 characters.
    pub new_password: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct PasswordChanged {
    /// Other sessions (sign-ins) that ended; the caller's stays.
    pub sessions_ended: u32,
}

/// Changes the caller's password. Every other session of the account ends at once (its
/// refresh token is refused, its access token too); the caller's stays signed in.
/// A wrong current password is `401 invalid_credentials`, throttled like sign-in.
#[utoipa::path(put, path = "/api/v1/me/password", request_body = PasswordChange, tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = PasswordChanged), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(super) async fn change_password(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(body): Json<PasswordChange>,
) -> Result<Json<PasswordChanged>, EdgeError> {
    let message =
        pb::ChangePasswordRequest { current_password: body.current_password, new_password: body.new_password };
    let answer = api.upstream.auth.clone().change_password(forward(&headers, message)).await?.into_inner();
    Ok(Json(PasswordChanged { sessions_ended: answer.sessions_ended }))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct PasswordAgain {
    pub password: String,
}

/// Deletes the caller's account after checking its password again (throttled like sign-in):
/// first auth checks the password and deletes nothing, then the catalog's data of the
/// account goes while its token still works there, then auth deletes the account and every
/// session of it ends at once.
#[utoipa::path(delete, path = "/api/v1/me", request_body = PasswordAgain, tag = "auth",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody, description = "last_admin: the only admin stays"),
        (status = 429, body = ErrorBody)))]
pub(super) async fn delete_me(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(body): Json<PasswordAgain>,
) -> Result<StatusCode, EdgeError> {
    let check = pb::DeleteAccountRequest { password: body.password.clone(), check_only: true };
    let user_id = api.upstream.auth.clone().delete_account(forward(&headers, check)).await?.into_inner().user_id;
    erase_catalog_data(&api, &headers, &user_id).await?;
    let delete = pb::DeleteAccountRequest { password: body.password, check_only: false };
    api.upstream.auth.clone().delete_account(forward(&headers, delete)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Erases the catalog's data of an account being deleted (its profiles, watchlists,
/// progress and history): called with the account's own token, after auth checked its
/// password and before auth deletes it (after that the token no longer verifies).
async fn erase_catalog_data(api: &Api, headers: &HeaderMap, user_id: &str) -> Result<(), EdgeError> {
    let request = forward(headers, ottr_proto::catalog::v1::EraseMyDataRequest {});
    let erased = api.upstream.library.clone().erase_my_data(request).await?.into_inner();
    tracing::info!(%user_id, profiles = erased.profiles_deleted, "account's catalog data erased");
    Ok(())
}

#[derive(Deserialize, ToSchema)]
pub(super) struct Disabled {
    pub disabled: bool,
}

/// Admins: disables an account (it cannot sign in or refresh, `403 account_disabled`, and
/// every session of it ends at once) or enables it again. Not one's own: `409
/// cannot_disable_self`.
#[utoipa::path(put, path = "/api/v1/users/{id}/disabled", request_body = Disabled, tag = "auth",
    params(("id" = String, Path, description = "the account's id")), security(("bearer" = [])),
    responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub(super) async fn set_disabled(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Disabled>,
) -> Result<Json<User>, EdgeError> {
    let request = forward(&headers, pb::SetDisabledRequest { user_id: id, disabled: body.disabled });
    Ok(Json(api.upstream.auth.clone().set_disabled(request).await?.into_inner().into()))
}

#[derive(Deserialize, IntoParams)]
pub(super) struct LookupQuery {
    /// Account ids, comma-separated; at most 100.
    pub ids: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct UserSummary {
    pub id: String,
    pub email: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Users {
    pub users: Vec<UserSummary>,
}

/// Editors and admins: who these accounts are (e.g. who uploaded an asset). Unknown ids are
/// left out.
#[utoipa::path(get, path = "/api/v1/users", params(LookupQuery), tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Users), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn lookup_users(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(query): Query<LookupQuery>,
) -> Result<Json<Users>, EdgeError> {
    let user_ids = query.ids.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned).collect();
    let answer = api.upstream.auth.clone().lookup_users(forward(&headers, pb::LookupUsersRequest { user_ids })).await?;
    let users = answer.into_inner().users.into_iter().map(|u| UserSummary { id: u.id, email: u.email }).collect();
    Ok(Json(Users { users }))
}

/// RFC 8628 §3.2.
#[derive(Serialize, ToSchema)]
pub(super) struct DeviceAuthorization {
    /// The device's secret: what it polls with.
    pub device_code: String,
    /// What the viewer types on the web app: `XXXX-XXXX`.
    pub user_code: String,
    pub verification_uri: String,
    /// With the code filled in, for a QR code.
    pub verification_uri_complete: String,
    /// Seconds until both codes expire.
    pub expires_in: i64,
    /// Seconds between polls.
    pub interval: i64,
}

/// TV sign-in, step 1 (no sign-in needed; throttled per address): codes for a device to show.
#[utoipa::path(post, path = "/api/v1/device/code", tag = "auth",
    responses((status = 200, body = DeviceAuthorization), (status = 429, body = ErrorBody)))]
pub(super) async fn device_code(
    State(api): State<Api>,
    headers: HeaderMap,
) -> Result<Json<DeviceAuthorization>, EdgeError> {
    let request = forward(&headers, pb::StartDeviceAuthorizationRequest {});
    let d = api.upstream.auth.clone().start_device_authorization(request).await?.into_inner();
    Ok(Json(DeviceAuthorization {
        device_code: d.device_code,
        user_code: d.user_code,
        verification_uri: d.verification_uri,
        verification_uri_complete: d.verification_uri_complete,
        expires_in: d.expires_in,
        interval: d.interval,
    }))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct DeviceCode {
    pub device_code: String,
}

/// TV sign-in, the device's poll: a session once a viewer approved, exactly once. Until then
/// `400 authorization_pending`, or `400 slow_down` when polled sooner than the interval
/// (which grows by 5 s); `400 access_denied` when refused, `400 expired_token` when too late,
/// `400 invalid_device_code` for an unknown or used code.
#[utoipa::path(post, path = "/api/v1/device/token", request_body = DeviceCode, tag = "auth",
    responses((status = 200, body = Session), (status = 400, body = ErrorBody)))]
pub(super) async fn device_token(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(body): Json<DeviceCode>,
) -> Result<Json<Session>, EdgeError> {
    let request = forward(&headers, pb::PollDeviceTokenRequest { device_code: body.device_code });
    Ok(Json(api.upstream.auth.clone().poll_device_token(request).await?.into_inner().into()))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct DeviceDecision {
    /// As shown on the device; case and the dash do not matter.
    pub user_code: String,
    /// Refuse the device instead of signing it in.
    #[serde(default)]
    pub deny: bool,
}

/// TV sign-in, the viewer's step: signed in on the web app, approve (or deny) the device
/// showing this code. Wrong codes are throttled per account and address (`429
/// too_many_attempts`); `404 invalid_user_code`, `400 expired_token`.
#[utoipa::path(post, path = "/api/v1/device/approve", request_body = DeviceDecision, tag = "auth",
    security(("bearer" = [])),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(super) async fn device_approve(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(body): Json<DeviceDecision>,
) -> Result<StatusCode, EdgeError> {
    let request = forward(&headers, pb::ApproveDeviceRequest { user_code: body.user_code, deny: body.deny });
    api.upstream.auth.clone().approve_device(request).await?;
    Ok(StatusCode::NO_CONTENT)
}
