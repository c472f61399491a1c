//! Builds the media service (API and workers) and runs it until asked to stop.

use std::{future::Future, sync::Arc};

use sqlx::PgPool;
use tokio::{net::TcpListener, sync::watch};

use ottr_proto::media::v1::{media_service_server::MediaServiceServer, webhook_service_server::WebhookServiceServer};
use ottr_runtime::{
    config::RedisSettings,
    grpc::{self, GrpcServer},
    redis::Redis,
    token::TokenVerifier,
};

use ottr_storage::ObjectStore;

use crate::{
    MediaError, MediaSettings, events::Events, grpc::MediaApi, pipeline::Context, store::write_lock::WriteLocks,
    uploads, webhooks, webhooks::WebhookApi, worker,
};

#[derive(Clone)]
pub struct Dependencies {
    pub pool: PgPool,
    pub redis: Redis,
    pub redis_settings: RedisSettings,
    pub verifier: Arc<TokenVerifier>,
}

/// The store the settings name, opened for writing: an S3 bucket is created when missing.
pub async fn object_store(settings: &MediaSettings) -> Result<ObjectStore, MediaError> {
    Ok(ObjectStore::open(&settings.storage).await?)
}

/// Creates the work folder, emptying what a killed process left in it: a process that
/// dies by kill -9 runs no cleanup, so the next start does it. Each media process on a
/// machine needs a work folder of its own.
async fn clean_work_dir(dir: &std::path::Path) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let path = entry.path();
        let removed = if entry.file_type().await?.is_dir() {
            tokio::fs::remove_dir_all(&path).await
        } else {
            tokio::fs::remove_file(&path).await
        };
        if let Err(error) = removed {
            tracing::warn!(%error, path = %path.display(), "could not remove a leftover work file");
        }
    }
    Ok(())
}

pub struct Application {
    listener: TcpListener,
    server: GrpcServer,
    verifier: Arc<TokenVerifier>,
    ctx: Context,
}

impl Application {
    pub async fn build(settings: MediaSettings, deps: Dependencies) -> Result<Self, MediaError> {
        let listener = grpc::bind(&settings.listen).await.map_err(|source| MediaError::Listen {
            addr: format!("{}:{}", settings.listen.host, settings.listen.port),
            source,
        })?;
        clean_work_dir(&settings.work_dir).await.map_err(MediaError::WorkDir)?;
        // Upload parts are 8 MiB buffers, freed as each part is stored.
        ottr_runtime::memory::return_large_blocks_to_the_os();
        let store = object_store(&settings).await?;
        let events = Events::start(deps.pool.clone(), deps.redis, &deps.redis_settings)?;
        let upload_writers = Arc::new(tokio::sync::Semaphore::new(settings.uploads.max_writers.max(1)));
        let write_locks = WriteLocks::new(&deps.pool, settings.uploads.max_writers.max(1));
        let settings = Arc::new(settings);
        let ctx = Context { pool: deps.pool, store, events, settings, upload_writers, write_locks };
        let webhooks = WebhookApi { pool: ctx.pool.clone(), settings: ctx.settings.webhooks };
        let server = GrpcServer::new()
            .add(MediaServiceServer::new(MediaApi { ctx: ctx.clone() }))
            .await
            .add(WebhookServiceServer::new(webhooks))
            .await;
        Ok(Self { listener, server, verifier: deps.verifier, ctx })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The store and queue this instance uses, for tests and tools.
    pub fn context(&self) -> Context {
        self.ctx.clone()
    }

    /// Serves the API and, when enabled, runs the workers; both stop on `shutdown`.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), tonic::transport::Error> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let sweeper = uploads::sweep::spawn(self.ctx.clone(), stop_rx.clone());
        let settings = self.ctx.settings.webhooks;
        let sender = settings.send.then(|| webhooks::send::spawn(self.ctx.pool.clone(), settings, stop_rx.clone()));
        let mut workers =
            if self.ctx.settings.worker.enabled { Some(worker::spawn(self.ctx.clone(), stop_rx)) } else { None };
        let served = self
            .server
            .serve(self.listener, self.verifier, async move {
                shutdown.await;
                let _ = stop_tx.send(true);
            })
            .await;
        if let Some(workers) = workers.as_mut() {
            while workers.join_next().await.is_some() {}
        }
        let _ = sweeper.await;
        if let Some(sender) = sender {
            let _ = sender.await;
        }
        served
    }
}
