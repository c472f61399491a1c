//! The process starter against the real `s3-server` binary: it waits for the ready file,
//! reads the port from it, and the server behind that port refuses unsigned requests.

use std::time::Duration;

use ottr_testkit::{process::Process, s3::S3Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The status line an unsigned `GET /` gets.
async fn status_line(address: &str) -> String {
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    socket.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut reply = String::new();
    socket.read_to_string(&mut reply).await.unwrap();
    reply.lines().next().unwrap_or_default().to_owned()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ottr-testkit-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn the_s3_server_binary_announces_its_port_in_the_ready_file() {
    let dir = scratch("bin");
    let env =
        [("S3_ACCESS_KEY".to_owned(), "kit-access".to_owned()), ("S3_SECRET_KEY".to_owned(), "kit-secret".to_owned())];
    let server = Process::start(
        env!("CARGO_BIN_EXE_s3-server").as_ref(),
        &[dir.join("objects").to_str().unwrap()],
        &env,
        &dir.join("s3.log"),
        Duration::from_secs(20),
    )
    .unwrap();
    let port = server.port("s3").unwrap();
    assert_ne!(port, 0);
    assert_eq!(server.ready["s3"]["address"], format!("127.0.0.1:{port}"));
    assert!(status_line(&format!("127.0.0.1:{port}")).await.contains(" 403"), "unsigned requests are refused");
    assert!(server.peak_rss_mib().unwrap() > 0.0);
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_program_that_exits_before_it_is_ready_is_reported_with_its_log() {
    let dir = scratch("exit");
    let error = Process::start(
        env!("CARGO_BIN_EXE_s3-server").as_ref(),
        &[],
        // Without a backtrace the usage line is the log's tail.
        &[("RUST_BACKTRACE".to_owned(), "0".to_owned())],
        &dir.join("s3.log"),
        Duration::from_secs(20),
    )
    .err()
    .unwrap();
    assert!(format!("{error:#}").contains("usage: s3-server"), "{error:#}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_in_process_server_serves_on_a_free_port_and_checks_signatures() {
    let dir = scratch("inproc");
    let server = S3Server::start(&dir.join("objects"), "kit-access", "kit-secret").await.unwrap();
    let address = server.endpoint.strip_prefix("http://").unwrap().to_owned();
    assert!(status_line(&address).await.contains(" 403"));
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}
