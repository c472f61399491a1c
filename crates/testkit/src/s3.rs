//! A real S3-compatible server on a folder (s3s-fs: checks SigV4 signatures, speaks
//! multipart, and completes multipart uploads as MinIO does, leaving the parts in place
//! under a manifest: see [`server`]), served in-process on a free port for tests, or as the `s3-server`
//! binary that the fault tests and the upload benchmark kill and restart like an outage.

mod assembled;
mod completion;
mod server;

use std::path::Path;

use anyhow::Context;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto::Builder,
};
use s3s::{auth::SimpleAuth, service::S3ServiceBuilder};
use tokio::net::TcpListener;

/// A server started by [`S3Server::start`]; it stops when dropped.
pub struct S3Server {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    task: tokio::task::JoinHandle<()>,
}

impl S3Server {
    /// Serves `root` (buckets are its sub-folders, created if missing) on a free port,
    /// accepting requests signed with `access`/`secret`.
    pub async fn start(root: &Path, access: &str, secret: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let serving = serve(listener, root, access, secret)?;
        let task = tokio::spawn(async move {
            let _ = serving.await;
        });
        Ok(Self { endpoint, task })
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `root` on an already bound `listener` until an accept fails.
pub fn serve(
    listener: TcpListener,
    root: &Path,
    access: &str,
    secret: &str,
) -> anyhow::Result<impl Future<Output = std::io::Result<()>> + Send + 'static> {
    std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
    let mut builder = S3ServiceBuilder::new(server::Server::new(root)?);
    builder.set_auth(SimpleAuth::from_single(access.to_owned(), secret.to_owned()));
    let service = builder.build();
    Ok(async move {
        loop {
            let (socket, _) = listener.accept().await?;
            let service = service.clone();
            tokio::spawn(async move {
                // A client that goes away mid-request ends only its own connection.
                let _ = Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(socket), service).await;
            });
        }
    })
}
