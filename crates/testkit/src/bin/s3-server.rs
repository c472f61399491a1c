//! `s3-server <folder> [port] [--ready-file PATH]`: the S3 test server as a process of its
//! own, so a fault test can kill it and start it again. The access key and secret come
//! from `S3_ACCESS_KEY` and `S3_SECRET_KEY`. Port 0 (the default) picks a free one; the
//! line `s3 listening on 127.0.0.1:<port>` and the ready file (`{"s3": {"address",
//! "port"}}`, written atomically once bound) say which.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut positional = Vec::new();
    let mut ready_file = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--ready-file" {
            ready_file = Some(args.next().context("--ready-file needs a path")?);
        } else {
            positional.push(arg);
        }
    }
    let root = positional.first().context("usage: s3-server <folder> [port] [--ready-file PATH]")?;
    let port: u16 = positional.get(1).map(|p| p.parse()).transpose().context("port must be a number")?.unwrap_or(0);
    let access = std::env::var("S3_ACCESS_KEY").context("S3_ACCESS_KEY is not set")?;
    let secret = std::env::var("S3_SECRET_KEY").context("S3_SECRET_KEY is not set")?;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    let serving = ottr_testkit::s3::serve(listener, root.as_ref(), &access, &secret)?;
    println!("s3 listening on {address}");
    if let Some(path) = ready_file {
        let json = serde_json::json!({ "s3": { "address": address.to_string(), "port": address.port() } });
        ottr_testkit::process::write_atomically(path.as_ref(), json.to_string().as_bytes())?;
    }
    Ok(serving.await?)
}
