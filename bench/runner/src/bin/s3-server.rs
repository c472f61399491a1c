//! A real S3-compatible server on a folder (s3s-fs, which checks SigV4 signatures and
//! speaks multipart), for the fault tests and the upload benchmark. It is a binary of
//! its own so a test can kill it and start it again, as an outage would.
//!
//! `s3-server <folder> [port]`: the access key and secret come from `S3_ACCESS_KEY` and
//! `S3_SECRET_KEY`; buckets are the folder's sub-folders. Port 0 (the default) picks a
//! free one; the line `s3 listening on 127.0.0.1:<port>` says which.

use anyhow::Context;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto::Builder,
};
use s3s::{auth::SimpleAuth, service::S3ServiceBuilder};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let root = args.next().context("usage: s3-server <folder> [port]")?;
    let port: u16 = args.next().map(|p| p.parse()).transpose().context("port must be a number")?.unwrap_or(0);
    let access = std::env::var("S3_ACCESS_KEY").context("S3_ACCESS_KEY is not set")?;
    let secret = std::env::var("S3_SECRET_KEY").context("S3_SECRET_KEY is not set")?;

    std::fs::create_dir_all(&root)?;
    let fs = s3s_fs::FileSystem::new(&root).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(access, secret));
    let service = builder.build();

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("s3 listening on {}", listener.local_addr()?);
    loop {
        let (socket, _) = listener.accept().await?;
        let service = service.clone();
        tokio::spawn(async move {
            // A client that goes away mid-request ends only its own connection.
            let _ = Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(socket), service).await;
        });
    }
}
