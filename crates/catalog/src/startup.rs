//! Builds the catalog service from its settings and runs it until asked to stop.

use std::{future::Future, sync::Arc};

use sqlx::PgPool;
use tokio::net::TcpListener;

use ottr_proto::catalog::v1::{
    catalog_service_server::CatalogServiceServer, library_service_server::LibraryServiceServer,
};
use ottr_runtime::{
    grpc::{self, GrpcServer},
    redis::Redis,
    token::TokenVerifier,
};

use crate::{
    CatalogError, CatalogSettings,
    cache::{Cache, CacheStats},
    grpc::{CatalogApi, LibraryApi, State},
};

/// What the catalog needs from outside, made once by the caller.
#[derive(Clone)]
pub struct Dependencies {
    pub pool: PgPool,
    pub redis: Redis,
    /// Verifies callers' access tokens against auth's published keys.
    pub verifier: Arc<TokenVerifier>,
}

pub struct Application {
    listener: TcpListener,
    server: GrpcServer,
    verifier: Arc<TokenVerifier>,
    stats: Arc<CacheStats>,
}

impl Application {
    pub async fn build(settings: &CatalogSettings, deps: Dependencies) -> Result<Self, CatalogError> {
        let listener = grpc::bind(&settings.listen).await.map_err(|source| CatalogError::Listen {
            addr: format!("{}:{}", settings.listen.host, settings.listen.port),
            source,
        })?;
        let cache = Cache::new(deps.redis, settings.cache_ttl_secs);
        let stats = cache.stats();
        let state = Arc::new(State { pool: deps.pool, cache, search: settings.search, analytics: settings.analytics });
        let server = GrpcServer::new()
            .add(CatalogServiceServer::new(CatalogApi(state.clone())))
            .await
            .add(LibraryServiceServer::new(LibraryApi(state)))
            .await;
        Ok(Self { listener, server, verifier: deps.verifier, stats })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Cache hits, misses and errors since start.
    pub fn cache_stats(&self) -> Arc<CacheStats> {
        self.stats.clone()
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), tonic::transport::Error> {
        self.server.serve(self.listener, self.verifier, shutdown).await
    }
}
