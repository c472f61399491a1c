//! Builds the auth service from its settings and runs it until asked to stop.

use std::{future::Future, sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio::net::TcpListener;

use ottr_proto::auth::v1::auth_service_server::AuthServiceServer;
use ottr_runtime::{
    config::TokenSettings,
    grpc::{self, GrpcServer},
    redis::Redis,
    token::{Revocations, TokenVerifier},
};

use crate::{
    AuthError, AuthSettings, domain, grpc::AuthApi, hashing::Hasher, keys::KeyRing, sessions::Sessions,
    throttle::LoginThrottle,
};

/// What auth needs from outside, made once by the caller (the `ottr` command or a test).
#[derive(Clone)]
pub struct Dependencies {
    pub pool: PgPool,
    pub redis: Redis,
}

pub struct Application {
    listener: TcpListener,
    server: GrpcServer,
    verifier: Arc<TokenVerifier>,
}

impl Application {
    /// Binds the listener and prepares every part; nothing is served until
    /// [`run_until_stopped`](Self::run_until_stopped).
    pub async fn build(settings: &AuthSettings, tokens: &TokenSettings, deps: Dependencies) -> Result<Self, AuthError> {
        let listener = grpc::bind(&settings.listen).await.map_err(|source| AuthError::Listen {
            addr: format!("{}:{}", settings.listen.host, settings.listen.port),
            source,
        })?;
        let keys = KeyRing::open(deps.pool.clone(), Duration::from_secs(settings.key_cache_secs)).await?;
        domain::password::warm_up().await;
        // Auth writes ended sessions where every verifier, its own included, looks for them.
        let revocations = Revocations::new(deps.redis.clone());
        let api = AuthApi {
            pool: deps.pool.clone(),
            sessions: Sessions::new(deps.pool, keys.clone(), settings, tokens, revocations.clone()),
            throttle: LoginThrottle::new(deps.redis, settings.throttle.clone()),
            hasher: Hasher::new(&settings.hashing),
            keys: keys.clone(),
            rotation_delay: time::Duration::seconds(settings.rotation_delay_secs),
            device: settings.device.clone(),
        };
        let verifier = Arc::new(TokenVerifier::new(tokens, keys).checking_revocations(revocations));
        let server = GrpcServer::new().trusting(&settings.network).add(AuthServiceServer::new(api)).await;
        Ok(Self { listener, server, verifier })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), tonic::transport::Error> {
        self.server.serve(self.listener, self.verifier, shutdown).await
    }
}
