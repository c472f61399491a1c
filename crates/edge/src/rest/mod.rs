//! REST/JSON under `/api/v1`, described by the OpenAPI document at
//! `/api/v1/openapi.json`, which is generated from these handlers.

mod account;
mod analytics;
mod artwork;
mod assets;
mod auth;
mod catalog;
mod jobs;
mod library;
mod playback;
mod removal;
pub(crate) mod uploads;
mod webhooks;

use std::sync::Arc;

use axum::{
    Json, Router,
    routing::{delete, get, post, put},
};
use ottr_runtime::token::TokenVerifier;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;

use crate::{
    error::ErrorBody,
    limits::{LimitSettings, StreamSlots},
    playback::Player,
    upstream::Upstream,
};

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct Api {
    pub upstream: Upstream,
    /// Signs playback URLs.
    pub player: Player,
    /// Absolute base for the URLs the API hands out.
    pub public_url: String,
    /// Advertised to tus clients and refused at creation; media enforces its own limit.
    pub max_upload_bytes: u64,
    /// Sends a tus PATCH's whole parts to the object store itself, by URLs media presigns
    /// (`None`: every byte goes through media).
    pub parts_to_store: Option<uploads::PartsToStore>,
    /// Verifies callers' access tokens where the edge itself needs to know who calls.
    pub verifier: Arc<TokenVerifier>,
    /// Cancelled when the edge starts to stop: long-lived answers (SSE) end then.
    pub stopping: CancellationToken,
    /// Open progress streams per user.
    pub streams: StreamSlots,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "ottr", description = "ottr's public REST API. Errors are `{ code, message }` with stable codes."),
    paths(
        auth::register, auth::login, auth::refresh, auth::logout, auth::me,
        account::change_password, account::delete_me, account::set_disabled, account::lookup_users,
        account::device_code, account::device_token, account::device_approve,
        catalog::list_titles, catalog::get_title, catalog::search, catalog::get_series,
        catalog::create_title, catalog::update_title, catalog::set_visibility,
        library::list_profiles, library::create_profile, library::update_profile, library::delete_profile, library::watchlist, library::add_to_watchlist,
        library::remove_from_watchlist, library::record_progress, library::history, library::continue_watching,
        playback::title, playback::episode, artwork::poster, jobs::events,
        assets::list_assets, assets::get_asset, jobs::requeue, jobs::cancel, assets::add_subtitle, assets::replace_subtitle, assets::remove_subtitle,
        removal::delete_title, removal::delete_episode, removal::delete_asset,
        uploads::tus::options, uploads::tus::options_upload, uploads::tus::options_direct, uploads::tus::create, uploads::tus::head, uploads::tus::status, uploads::tus::patch,
        uploads::tus::delete, uploads::direct::grant, uploads::direct::create, uploads::multipart::multipart,
        analytics::catalog, analytics::title,
        webhooks::create, webhooks::list, webhooks::delete, webhooks::deliveries, webhooks::resend,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth)
)]
pub(crate) struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// JSON routes get the body limit and the request timeout; the auth routes also get the
/// per-address rate limit. Streams (SSE, uploads) get neither: a timeout would cut them, and
/// uploads enforce `max_upload_bytes` themselves while they spool.
pub(crate) fn router(api: Api, limits: &LimitSettings) -> Router {
    let (body_limit, timeout) = crate::limits::json_route_layers(limits);
    let auth = Router::new()
        .route("/api/v1/auth/register", post(auth::register))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/refresh", post(auth::refresh))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/device/code", post(account::device_code))
        .route("/api/v1/device/token", post(account::device_token))
        .route("/api/v1/device/approve", post(account::device_approve))
        .route_layer(crate::limits::auth_rate_limit(limits));
    let json = Router::new()
        .merge(auth)
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/me", get(auth::me).delete(account::delete_me))
        .route("/api/v1/me/password", put(account::change_password))
        .route("/api/v1/users", get(account::lookup_users))
        .route("/api/v1/users/{id}/disabled", put(account::set_disabled))
        .route("/api/v1/titles", get(catalog::list_titles).post(catalog::create_title))
        .route("/api/v1/titles/{id}", get(catalog::get_title).put(catalog::update_title).delete(removal::delete_title))
        .route("/api/v1/episodes/{id}", delete(removal::delete_episode))
        .route("/api/v1/titles/{id}/visibility", put(catalog::set_visibility))
        .route("/api/v1/titles/{id}/playback", get(playback::title))
        .route("/api/v1/titles/{id}/poster", get(artwork::poster))
        .route("/api/v1/titles/{id}/analytics", get(analytics::title))
        .route("/api/v1/analytics", get(analytics::catalog))
        .route("/api/v1/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/api/v1/webhooks/{id}", delete(webhooks::delete))
        .route("/api/v1/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/api/v1/webhooks/{id}/deliveries/{delivery}/resend", post(webhooks::resend))
        .route("/api/v1/episodes/{id}/playback", get(playback::episode))
        .route("/api/v1/series/{id}", get(catalog::get_series))
        .route("/api/v1/search", get(catalog::search))
        .route("/api/v1/profiles", get(library::list_profiles).post(library::create_profile))
        .route("/api/v1/profiles/{profile}", put(library::update_profile).delete(library::delete_profile))
        .route("/api/v1/profiles/{profile}/watchlist", get(library::watchlist))
        .route(
            "/api/v1/profiles/{profile}/watchlist/{title}",
            put(library::add_to_watchlist).delete(library::remove_from_watchlist),
        )
        .route("/api/v1/profiles/{profile}/progress", put(library::record_progress))
        .route("/api/v1/profiles/{profile}/history", get(library::history))
        .route("/api/v1/profiles/{profile}/continue-watching", get(library::continue_watching))
        .route("/api/v1/assets", get(assets::list_assets))
        .route("/api/v1/assets/{id}", get(assets::get_asset).delete(removal::delete_asset))
        .route("/api/v1/jobs/{id}/requeue", post(jobs::requeue))
        .route("/api/v1/jobs/{id}/cancel", post(jobs::cancel))
        .route("/api/v1/assets/{id}/subtitles/{track}", delete(assets::remove_subtitle))
        .route_layer(timeout)
        .route_layer(body_limit);
    // Subtitle files are larger than JSON bodies, and have their own limit.
    let subtitles = Router::new()
        .route("/api/v1/assets/{id}/subtitles", post(assets::add_subtitle))
        .route("/api/v1/assets/{id}/subtitles/{track}", put(assets::replace_subtitle))
        .route_layer(timeout)
        .route_layer(axum::extract::DefaultBodyLimit::max(assets::SUBTITLE_BODY_BYTES));
    let limit = limits.json_body_bytes;
    let streams = Router::new().route("/api/v1/jobs/{id}/events", get(jobs::events)).merge(uploads::router());
    json.merge(subtitles)
        .merge(streams)
        .layer(axum::middleware::from_fn(move |request, next| crate::limits::json_refusals(limit, request, next)))
        .with_state(api)
}
