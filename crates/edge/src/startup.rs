//! Builds the edge and serves it until asked to stop, then drains for a bounded time.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, extract::Request, http::StatusCode, response::IntoResponse, routing::get};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tower_http::{
    cors::{AllowOrigin, Any, CorsLayer},
    services::{ServeDir, ServeFile},
};

use ottr_proto::auth::v1::GetJwksRequest;
use ottr_runtime::token::TokenVerifier;
use ottr_storage::{ObjectStore, keys::Tree};

use crate::{
    EdgeSettings,
    client_ip::{self, Proxies},
    grpc_proxy, headers,
    hls::{self, Delivery, HotCache, token::Signer},
    limits::StreamSlots,
    metrics::{self, Metrics},
    playback::{PlaybackApi, Player},
    rest::{self, Api, uploads::PartsToStore},
    upstream::Upstream,
    web,
};

/// Why the edge could not start. Never a client's fault, so not an `EdgeError`.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {address}")]
    Listen {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("an upstream service URL is not valid")]
    UpstreamUrl(#[source] tonic::transport::Error),
    #[error("the gRPC reflection service cannot be built")]
    Reflection(#[source] tonic_reflection::server::Error),
    /// Empty, an example's placeholder, or too short: URLs signed with it could be forged.
    #[error("{0}")]
    PlaybackSecret(String),
    #[error("the HTTP client for upload parts cannot be built: {0}")]
    HttpClient(String),
}

/// What the edge is given rather than making: the object store media writes (the edge
/// only reads it) and the verifier of access tokens, shared as the services share theirs.
pub struct Dependencies {
    pub store: ObjectStore,
    pub verifier: Arc<TokenVerifier>,
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    stopping: CancellationToken,
    drain_limit: Duration,
    /// `/metrics` on its own (internal) address, when one is configured.
    metrics: Option<(TcpListener, Router)>,
}

fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new().allow_methods(Any).allow_headers(Any).expose_headers(Any);
    if origins.iter().any(|o| o == "*") {
        layer.allow_origin(Any)
    } else {
        let list = origins.iter().filter_map(|o| o.parse().ok()).collect::<Vec<_>>();
        layer.allow_origin(AllowOrigin::list(list))
    }
}

/// What PUTs upload parts to the store, when the edge sends them there itself.
fn parts_to_store(settings: &EdgeSettings, store: &ObjectStore) -> Result<Option<PartsToStore>, StartupError> {
    if !settings.parts_to_store || !store.takes_presigned_parts() {
        return Ok(None);
    }
    // Like the store's own client: no system proxy between the edge and its store.
    let client = reqwest::Client::builder().no_proxy().connect_timeout(Duration::from_secs(10)).build();
    let client = client.map_err(|error| StartupError::HttpClient(error.to_string()))?;
    let memory = (settings.limits.upload_parts_mib as usize).saturating_mul(1024 * 1024);
    Ok(Some(PartsToStore { client, memory: Arc::new(tokio::sync::Semaphore::new(memory)) }))
}

impl Application {
    /// `deps.store` is the object store media writes to; the edge only reads from it, so
    /// open it with [`ObjectStore::open_read_only`].
    pub async fn build(settings: &EdgeSettings, deps: Dependencies) -> Result<Self, StartupError> {
        let Dependencies { store, verifier } = deps;
        let listen = format!("{}:{}", settings.listen.host, settings.listen.port);
        let listen_failed = |source| StartupError::Listen { address: listen.clone(), source };
        let listener = ottr_runtime::grpc::bind(&settings.listen).await.map_err(listen_failed)?;
        let address = listener.local_addr().map_err(listen_failed)?;
        let public_url = if settings.public_url.is_empty() {
            format!("http://{address}")
        } else {
            settings.public_url.trim_end_matches('/').to_owned()
        };
        let upstream = Upstream::new(settings).map_err(StartupError::UpstreamUrl)?;
        let delivery = Arc::new(Delivery {
            store,
            signer: Signer::new(&settings.playback.secret_bytes().map_err(StartupError::PlaybackSecret)?),
            cache: HotCache::new(settings.hls_cache_bytes, Duration::from_secs(settings.hls_cache_secs.max(1))),
            reads: Arc::new(tokio::sync::Semaphore::new(settings.playback.max_concurrent_reads.max(1))),
        });
        let stopping = CancellationToken::new();
        let player = Player {
            upstream: upstream.clone(),
            delivery: delivery.clone(),
            public_url: public_url.clone(),
            ttl_secs: settings.playback.effective_ttl_secs(),
        };
        let api = Api {
            upstream: upstream.clone(),
            player: player.clone(),
            public_url,
            streams: StreamSlots::new(settings.limits.progress_streams_per_user),
            max_upload_bytes: settings.max_upload_bytes,
            parts_to_store: parts_to_store(settings, &delivery.store)?,
            verifier,
            stopping: stopping.clone(),
        };
        let hls_routes = Router::new()
            .route("/hls/{token}/{*rest}", hls::route(Tree::Hls))
            .route("/images/{token}/{*rest}", hls::route(Tree::Images))
            .route("/files/{token}/{*rest}", hls::route(Tree::Files))
            .with_state(delivery);
        let channels = &upstream.channels;
        let grpc = grpc_proxy::router(
            PlaybackApi(player),
            &[
                ("ottr.auth.v1.AuthService", channels.auth.clone()),
                ("ottr.catalog.v1.CatalogService", channels.catalog.clone()),
                ("ottr.catalog.v1.LibraryService", channels.catalog.clone()),
                ("ottr.media.v1.MediaService", channels.media.clone()),
                ("ottr.media.v1.WebhookService", channels.media.clone()),
            ],
        )
        .await
        .map_err(StartupError::Reflection)?;
        let router = Router::new()
            .merge(rest::router(api, &settings.limits))
            .merge(grpc)
            .merge(hls_routes)
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(move || ready(upstream.clone())));
        let web = (!settings.web_dir.as_os_str().is_empty()).then(|| ServeDir::new(&settings.web_dir));
        let metrics = Metrics::default();
        let exposed = metrics.clone();
        let metrics_route = Router::new().route("/metrics", get(move || async move { exposed.render() }));
        let (router, internal) = match &settings.metrics_listen {
            Some(listen) => {
                let address = format!("{}:{}", listen.host, listen.port);
                let listener = ottr_runtime::grpc::bind(listen)
                    .await
                    .map_err(|source| StartupError::Listen { address, source })?;
                (router, Some((listener, metrics_route)))
            }
            None => (router.merge(metrics_route), None),
        };
        let router = router
            .merge(vendor_route("/vendor/hls.min.js", &settings.hls_js, web::HLS_JS))
            .merge(vendor_route("/vendor/tus.min.js", &settings.tus_js, web::TUS_JS))
            .fallback(move |request: Request| fallback(web.clone(), request))
            .route_layer(axum::middleware::from_fn_with_state(metrics, metrics::record))
            .layer(cors(&settings.cors_origins))
            .layer(axum::middleware::from_fn_with_state(
                Proxies::from(settings.network.trusted_proxies.clone()),
                client_ip::resolve_client,
            ));
        let router = headers::secure(router);
        let drain_limit = Duration::from_secs(settings.drain_limit_secs);
        Ok(Self { listener, router, stopping, drain_limit, metrics: internal })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until `shutdown` resolves, then lets running requests finish for at most the
    /// drain limit: progress streams end at once, an upload still arriving is cut off.
    /// The port of the internal metrics listener, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().and_then(|(l, _)| l.local_addr().ok()).map(|a| a.port())
    }

    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let stopping = self.stopping.clone();
        if let Some((listener, router)) = self.metrics {
            let stopped = self.stopping.clone().cancelled_owned();
            tokio::spawn(async move { axum::serve(listener, router).with_graceful_shutdown(stopped).await });
        }
        // The peer address is what the caller's address is resolved from (client_ip).
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(self.listener, service).with_graceful_shutdown(async move {
            shutdown.await;
            stopping.cancel();
        });
        let server = server.into_future();
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => return result,
            () = self.stopping.cancelled() => {}
        }
        match tokio::time::timeout(self.drain_limit, server).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!("requests still running after the drain limit were cut off");
                Ok(())
            }
        }
    }
}

/// What no route answers: gRPC calls get UNIMPLEMENTED, everything else the web app's files.
/// Anything unrouted: gRPC answers UNIMPLEMENTED; the rest is the web app, from the
/// binary or, when `web_dir` is set, from that folder.
async fn fallback(web: Option<ServeDir>, request: Request) -> axum::response::Response {
    if grpc_proxy::is_grpc(&request) {
        return grpc_proxy::unrouted(request).await;
    }
    let Some(web) = web else { return web::app(request.uri(), request.headers()) };
    match web.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}

/// An npm script the app loads: the file `path` names, else the embedded copy.
fn vendor_route<S: Clone + Send + Sync + 'static>(
    route: &str,
    path: &std::path::Path,
    embedded: &'static str,
) -> Router<S> {
    if path.as_os_str().is_empty() {
        Router::new()
            .route(route, get(move |headers: axum::http::HeaderMap| async move { web::vendor(embedded, &headers) }))
    } else {
        Router::new().route_service(route, ServeFile::new(path))
    }
}

/// Ready when auth answers: without it nobody can sign in or be verified.
async fn ready(upstream: Upstream) -> (StatusCode, &'static str) {
    match upstream.auth.clone().get_jwks(GetJwksRequest {}).await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "auth is not answering"),
    }
}
