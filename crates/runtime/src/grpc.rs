//! Serving gRPC the same way in every service: request ids, token verification, health
//! and reflection on every server, and a graceful stop.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::net::TcpListener;
use tonic::{
    server::NamedService,
    service::Routes,
    transport::{Server, server::TcpIncoming},
};
use tonic_health::server::HealthReporter;

use crate::{
    client_addr::{ClientAddrLayer, NetworkSettings},
    request_id::RequestIdLayer,
    token::{AuthLayer, TokenVerifier},
};

/// How long in-flight calls get to finish after shutdown is asked for.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// HTTP/2 receive window per stream: room for about two upload messages of a little over
/// 1 MiB; no more, since what the window admits waits in the receiver's memory while it
/// stores parts (8 MiB windows cost media about 18 MiB of peak RSS in `bench/upload`, for
/// no measured throughput). The connection gets eight times this, so a few uploads waiting
/// on the store do not hold up every other call on the same connection (an edge has one
/// connection to each service).
const STREAM_WINDOW: u32 = 2 * 1024 * 1024;

/// Binds `addr` before anything is served, so callers (and tests) may connect as soon as
/// this returns.
pub async fn bind(settings: &crate::config::ListenSettings) -> std::io::Result<TcpListener> {
    TcpListener::bind(settings.addr()?).await
}

/// A service's gRPC surface before it runs: its routes plus health and reflection.
pub struct GrpcServer {
    routes: Routes,
    health: HealthReporter,
    client_addr: ClientAddrLayer,
}

impl GrpcServer {
    /// Starts from the health and reflection services, which every server carries.
    pub fn new() -> Self {
        let (health, health_service) = tonic_health::server::health_reporter();
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(ottr_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .expect("the embedded descriptor sets are valid");
        let routes = Routes::new(health_service).add_service(reflection);
        Self { routes, health, client_addr: ClientAddrLayer::new(&NetworkSettings::default()) }
    }

    /// Believes forwarded caller addresses from these proxies (loopback when not called).
    pub fn trusting(mut self, network: &NetworkSettings) -> Self {
        self.client_addr = ClientAddrLayer::new(network);
        self
    }

    /// Adds a service and reports it SERVING.
    pub async fn add<S>(mut self, service: S) -> Self
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = std::convert::Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.health.set_serving::<S>().await;
        self.routes = self.routes.add_service(service);
        self
    }

    /// Serves on `listener` until `shutdown` resolves, then lets in-flight calls finish
    /// for at most [`DRAIN_LIMIT`].
    pub async fn serve(
        self,
        listener: TcpListener,
        verifier: Arc<TokenVerifier>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), tonic::transport::Error> {
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = Server::builder()
            // Room for 1 MiB upload messages in flight: with HTTP/2's 64 KiB default window a
            // client-streamed upload waits on a window update every message.
            .initial_stream_window_size(STREAM_WINDOW)
            .initial_connection_window_size(8 * STREAM_WINDOW)
            .layer(RequestIdLayer)
            .layer(self.client_addr)
            .layer(AuthLayer::new(verifier))
            .add_routes(self.routes)
            // Without TCP_NODELAY an answer longer than one segment waits (Nagle) for the
            // ACK the client delays: ~20 ms on every such call (measured in bench/catalog).
            .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), async move {
                shutdown.await;
                let _ = stop_tx.send(());
            });
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => return result,
            _ = stop_rx => {}
        }
        match tokio::time::timeout(DRAIN_LIMIT, server).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!("calls still running after the drain limit were cut off");
                Ok(())
            }
        }
    }
}

impl Default for GrpcServer {
    fn default() -> Self {
        Self::new()
    }
}
