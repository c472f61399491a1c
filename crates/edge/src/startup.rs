//! Builds the edge and serves it until asked to stop.

use std::{future::Future, sync::Arc};

use axum::{Router, http::StatusCode, routing::get};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower_http::{
    cors::{AllowOrigin, Any, CorsLayer},
    services::{ServeDir, ServeFile},
};

use ottr_proto::auth::v1::GetJwksRequest;
use ottr_storage::ObjectStore;

use crate::{
    EdgeError, EdgeSettings, grpc_proxy,
    hls::{self, Delivery, HotCache, token::Signer},
    metrics::{self, Metrics},
    rest::{self, Api},
    upstream::Upstream,
};

pub struct Application {
    listener: TcpListener,
    router: Router,
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

fn secret(settings: &EdgeSettings) -> Vec<u8> {
    let configured = settings.playback.secret.expose_secret();
    if !configured.is_empty() {
        return configured.as_bytes().to_vec();
    }
    tracing::warn!(
        "no playback secret configured: using a random one (URLs will not survive a restart or work across edges)"
    );
    let mut random = [0u8; 32];
    aws_lc_rs::rand::fill(&mut random).expect("the system has randomness");
    random.to_vec()
}

impl Application {
    /// `store` is the object store media writes to; the edge only reads from it, so open
    /// it with [`ObjectStore::open_read_only`].
    pub async fn build(settings: &EdgeSettings, store: ObjectStore) -> Result<Self, EdgeError> {
        let listener = ottr_runtime::grpc::bind(&settings.listen).await.map_err(|e| {
            EdgeError::BadRequest(format!("cannot listen on {}:{}: {e}", settings.listen.host, settings.listen.port))
        })?;
        let address = listener.local_addr().map_err(|e| EdgeError::BadRequest(e.to_string()))?;
        let public_url = if settings.public_url.is_empty() {
            format!("http://{address}")
        } else {
            settings.public_url.trim_end_matches('/').to_owned()
        };
        let upstream = Upstream::new(settings).map_err(|e| EdgeError::BadRequest(format!("bad upstream URL: {e}")))?;
        let delivery = Arc::new(Delivery {
            store,
            signer: Signer::new(&secret(settings)),
            cache: HotCache::new(settings.hls_cache_bytes),
        });
        let uploads = rest::uploads::Uploads::new(settings.upload_dir.clone(), settings.max_upload_bytes);
        let api = Api {
            upstream: upstream.clone(),
            delivery: delivery.clone(),
            public_url,
            playback_ttl_secs: settings.playback.ttl_secs,
            uploads,
        };
        let hls_routes = Router::new()
            .route("/hls/{token}/{*rest}", get(hls::hls))
            .route("/images/{token}/{*rest}", get(hls::images))
            .with_state(delivery);
        let channels = &upstream.channels;
        let grpc = grpc_proxy::router(&[
            ("ottr.auth.v1.AuthService", channels.auth.clone()),
            ("ottr.catalog.v1.CatalogService", channels.catalog.clone()),
            ("ottr.catalog.v1.LibraryService", channels.catalog.clone()),
            ("ottr.media.v1.MediaService", channels.media.clone()),
        ])
        .await;
        let router = Router::new()
            .merge(rest::router(api))
            .merge(grpc)
            .merge(hls_routes)
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(move || ready(upstream.clone())));
        let metrics = Metrics::default();
        let exposed = metrics.clone();
        let router = router
            .route("/metrics", get(move || async move { exposed.render() }))
            .route_service("/vendor/hls.min.js", ServeFile::new(&settings.hls_js))
            .fallback_service(ServeDir::new(&settings.web_dir))
            .route_layer(axum::middleware::from_fn_with_state(metrics, metrics::record))
            .layer(cors(&settings.cors_origins));
        Ok(Self { listener, router })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await
    }
}

/// Ready when auth answers: without it nobody can sign in or be verified.
async fn ready(upstream: Upstream) -> (StatusCode, &'static str) {
    match upstream.auth.clone().get_jwks(GetJwksRequest {}).await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "auth is not answering"),
    }
}
