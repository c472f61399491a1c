//! gRPC and gRPC-web on the edge's one port, for mobile and TV apps: the public RPCs of
//! auth, catalog and media are relayed as they are (HTTP/2 frames, metadata and the
//! caller's token included) to the service that owns them; grpc-web requests (HTTP/1.1
//! or HTTP/2) are translated by tonic-web first. Anything not on the public list, such
//! as key rotation, gets UNIMPLEMENTED and never leaves the edge.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::Router;
use tonic::{body::Body, transport::Channel};
use tower::{Layer, Service, ServiceExt};

use ottr_proto::playback::v1::playback_service_server::PlaybackServiceServer;
use ottr_runtime::ErrorCode;

use crate::playback::PlaybackApi;

/// Every RPC reachable from outside. Each service still checks the caller's token and roles.
pub(crate) const PUBLIC: &[&str] = &[
    "/ottr.auth.v1.AuthService/Register",
    "/ottr.auth.v1.AuthService/Login",
    "/ottr.auth.v1.AuthService/Refresh",
    "/ottr.auth.v1.AuthService/Logout",
    "/ottr.auth.v1.AuthService/Me",
    "/ottr.auth.v1.AuthService/ListUsers",
    "/ottr.auth.v1.AuthService/SetRoles",
    "/ottr.auth.v1.AuthService/GetJwks",
    "/ottr.auth.v1.AuthService/ChangePassword",
    "/ottr.auth.v1.AuthService/SetDisabled",
    "/ottr.auth.v1.AuthService/LookupUsers",
    // TV sign-in: TV apps ask for codes and poll over gRPC-web; the viewer approves on the
    // web app (REST) or in another app.
    "/ottr.auth.v1.AuthService/StartDeviceAuthorization",
    "/ottr.auth.v1.AuthService/PollDeviceToken",
    "/ottr.auth.v1.AuthService/ApproveDevice",
    // Not DeleteAccount: the catalog's data of the account must go too, which only the
    // edge's `DELETE /api/v1/me` does. Not the catalog's DeleteTitle, DeleteEpisode and
    // DetachAsset nor media's DeleteAsset either: each is half a delete (the catalog's
    // leave the assets' objects in storage, media's leaves titles naming a gone asset), and
    // only the edge's REST `DELETE` routes join the halves up.
    "/ottr.catalog.v1.CatalogService/CreateTitle",
    "/ottr.catalog.v1.CatalogService/UpdateTitle",
    "/ottr.catalog.v1.CatalogService/SetVisibility",
    "/ottr.catalog.v1.CatalogService/GetTitle",
    "/ottr.catalog.v1.CatalogService/ListTitles",
    "/ottr.catalog.v1.CatalogService/SearchTitles",
    "/ottr.catalog.v1.CatalogService/CreateSeason",
    "/ottr.catalog.v1.CatalogService/CreateEpisode",
    "/ottr.catalog.v1.CatalogService/UpdateEpisode",
    "/ottr.catalog.v1.CatalogService/GetSeries",
    "/ottr.catalog.v1.CatalogService/GetEpisode",
    "/ottr.catalog.v1.CatalogService/GetViewingStats",
    "/ottr.catalog.v1.LibraryService/CreateProfile",
    "/ottr.catalog.v1.LibraryService/ListProfiles",
    "/ottr.catalog.v1.LibraryService/UpdateProfile",
    "/ottr.catalog.v1.LibraryService/DeleteProfile",
    "/ottr.catalog.v1.LibraryService/EraseMyData",
    "/ottr.catalog.v1.LibraryService/AddToWatchlist",
    "/ottr.catalog.v1.LibraryService/RemoveFromWatchlist",
    "/ottr.catalog.v1.LibraryService/ListWatchlist",
    "/ottr.catalog.v1.LibraryService/RecordProgress",
    "/ottr.catalog.v1.LibraryService/ListHistory",
    "/ottr.catalog.v1.LibraryService/ContinueWatching",
    "/ottr.media.v1.MediaService/Upload",
    "/ottr.media.v1.MediaService/GetAsset",
    "/ottr.media.v1.MediaService/ListAssets",
    "/ottr.media.v1.MediaService/GetPlayback",
    "/ottr.media.v1.MediaService/WatchJob",
    "/ottr.media.v1.MediaService/RequeueJob",
    "/ottr.media.v1.MediaService/CancelJob",
    "/ottr.media.v1.MediaService/PutSubtitle",
    "/ottr.media.v1.MediaService/RemoveSubtitle",
    "/ottr.media.v1.WebhookService/CreateWebhook",
    "/ottr.media.v1.WebhookService/ListWebhooks",
    "/ottr.media.v1.WebhookService/DeleteWebhook",
    "/ottr.media.v1.WebhookService/ListDeliveries",
    "/ottr.media.v1.WebhookService/ResendDelivery",
];

/// Public, but only for staff through the relay: the answer names an asset's storage keys
/// and state, drafts included. Viewers get playback through the catalog's title route,
/// which checks that the title is theirs to see (`ottr.playback.v1.PlaybackService`, the
/// edge's own, for apps).
const STAFF_ONLY: &[&str] = &["/ottr.media.v1.MediaService/GetPlayback"];

/// Why a staff-only RPC is refused before it is relayed, if it is.
fn refusal(request: &http::Request<Body>) -> Option<tonic::Status> {
    if !STAFF_ONLY.contains(&request.uri().path()) {
        return None;
    }
    match crate::caller::claimed(request.headers().get(http::header::AUTHORIZATION)) {
        None => Some(ErrorCode::Unauthenticated.status("sign in first")),
        Some(claims) if !claims.is_staff() => {
            Some(ErrorCode::PermissionDenied.status("only editors and admins may call this directly"))
        }
        Some(_) => None,
    }
}

/// Relays requests to one upstream service.
#[derive(Clone)]
struct Relay {
    channel: Channel,
}

impl Service<http::Request<Body>> for Relay {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let channel = self.channel.clone();
        Box::pin(async move {
            if !PUBLIC.contains(&request.uri().path()) {
                return Ok(tonic::Status::unimplemented("not a public RPC").into_http());
            }
            if let Some(status) = refusal(&request) {
                return Ok(status.into_http());
            }
            Ok(channel.oneshot(request).await.unwrap_or_else(|error| {
                tracing::warn!(%error, "upstream gRPC service unreachable");
                tonic::Status::unavailable("the service is unavailable; try again").into_http()
            }))
        })
    }
}

/// Whether a request speaks gRPC or gRPC-web, by its content type.
pub(crate) fn is_grpc<B>(request: &http::Request<B>) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc"))
}

/// The answer to a gRPC call nothing here routes (an unknown service or method, or an
/// older reflection API such as `grpc.reflection.v1alpha`): UNIMPLEMENTED, as a tonic
/// server answers, in gRPC-web framing when the call came that way, so clients fall back
/// cleanly instead of failing on an HTTP 405 from the web app's file server.
pub(crate) async fn unrouted(request: axum::extract::Request) -> axum::response::Response {
    let unimplemented = tower::service_fn(|_: http::Request<Body>| async {
        Ok::<_, Infallible>(tonic::Status::unimplemented("the edge does not serve this RPC").into_http::<Body>())
    });
    let answer = tonic_web::GrpcWebLayer::new().layer(unimplemented).oneshot(request).await;
    match answer {
        Ok(response) => response.map(axum::body::Body::new),
        Err(never) => match never {},
    }
}

/// Routes `/<package>.<Service>/<Method>` of each upstream, gRPC-web enabled, plus the
/// edge's own services: playback, health (a service is SERVING here while the edge relays
/// it) and reflection.
pub(crate) async fn router(
    playback: PlaybackApi,
    upstreams: &[(&str, Channel)],
) -> Result<Router, tonic_reflection::server::Error> {
    let (health, health_service) = tonic_health::server::health_reporter();
    for (service, _) in upstreams {
        health.set_service_status(*service, tonic_health::ServingStatus::Serving).await;
    }
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(ottr_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let own = tonic::service::Routes::new(health_service)
        .add_service(reflection)
        .add_service(PlaybackServiceServer::new(playback))
        .prepare()
        .into_axum_router()
        .layer(tonic_web::GrpcWebLayer::new());
    Ok(upstreams.iter().fold(own, |router, (service, channel)| {
        let relay = tower::ServiceBuilder::new()
            .layer(tonic_web::GrpcWebLayer::new())
            .service(Relay { channel: channel.clone() });
        router.route_service(&format!("/{service}/{{method}}"), relay)
    }))
}
