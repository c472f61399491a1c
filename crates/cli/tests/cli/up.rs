//! `ottr up` end to end.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
};

use crate::helpers::{Running, ScratchDatabase, ottr};

use ottr_proto::auth::v1::{self as pb, auth_service_client::AuthServiceClient};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

// Two workers: the test blocks one waiting for the child while the other lets the
// client connections close, which graceful shutdown waits for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ottr_up_serves_every_service_with_reflection_health_and_a_cli_made_admin_who_can_sign_in() {
    let db = ScratchDatabase::new();
    let migrated = ottr(&db).arg("migrate").output().unwrap();
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));

    let mut create = ottr(&db)
        .args(["user", "create", "--email", "Root@Example.org", "--role", "admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    create.stdin.take().unwrap().write_all(b"a long admin passphrase\n").unwrap();
    let created = create.wait_with_output().unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).contains("root@example.org"));

    // Started outside the checkout: the web app comes from the binary, not the folder.
    let mut up = Running(ottr(&db).arg("up").current_dir(std::env::temp_dir()).stdout(Stdio::piped()).spawn().unwrap());
    let mut lines = BufReader::new(up.0.stdout.take().unwrap()).lines();
    let mut ports = std::collections::HashMap::new();
    while ports.len() < 4 {
        let line = lines.next().expect("ottr up prints where each service listens").unwrap();
        if let Some((service, addr)) = line.split_once(" listening on ") {
            ports.insert(service.to_owned(), addr.rsplit_once(':').unwrap().1.parse::<u16>().unwrap());
        }
    }
    let url = format!("http://127.0.0.1:{}", ports["auth"]);
    let catalog_url = format!("http://127.0.0.1:{}", ports["catalog"]);
    let media_url = format!("http://127.0.0.1:{}", ports["media"]);
    let edge_url = format!("http://127.0.0.1:{}", ports["edge"]);
    let page = reqwest::get(format!("{edge_url}/")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/vendor/hls.min.js"), "the web app's page");
    for script in ["/vendor/hls.min.js", "/vendor/tus.min.js", "/app.js"] {
        let answer = reqwest::get(format!("{edge_url}{script}")).await.unwrap();
        assert_eq!(answer.status(), 200, "{script}");
        assert!(answer.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"), "{script}");
    }

    let channel = tonic::transport::Endpoint::from_shared(url.clone()).unwrap().connect().await.unwrap();
    let mut reflection = ServerReflectionClient::new(channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection.server_reflection_info(tokio_stream_once(request)).await.unwrap().into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) = answers.message().await.unwrap().unwrap().message_response
    else {
        panic!("reflection answered something other than a service list");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&"ottr.auth.v1.AuthService".to_owned()), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health".to_owned()), "{names:?}");

    let health = HealthClient::new(channel)
        .check(HealthCheckRequest { service: "ottr.auth.v1.AuthService".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);
    let catalog_channel = tonic::transport::Endpoint::from_shared(catalog_url).unwrap().connect().await.unwrap();
    let media_channel = tonic::transport::Endpoint::from_shared(media_url).unwrap().connect().await.unwrap();
    let checks = [
        (&catalog_channel, "ottr.catalog.v1.CatalogService"),
        (&catalog_channel, "ottr.catalog.v1.LibraryService"),
        (&media_channel, "ottr.media.v1.MediaService"),
    ];
    for (channel, service) in checks {
        let health = HealthClient::new(channel.clone())
            .check(HealthCheckRequest { service: service.into() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(health.status, ServingStatus::Serving as i32, "{service}");
    }

    let session = AuthServiceClient::connect(url)
        .await
        .unwrap()
        .login(pb::LoginRequest { email: "root@example.org".into(), password: "a long admin passphrase".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(session.user.unwrap().roles, vec![pb::Role::Admin as i32]);

    // The edge answers REST with the same account, and is ready once auth answers.
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{edge_url}/readyz")).send().await.unwrap().status(), 200);
    let login: serde_json::Value = http
        .post(format!("{edge_url}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "root@example.org", "password": "a long admin passphrase"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(login["user"]["roles"], serde_json::json!(["admin"]));
    drop(http);

    // SIGTERM stops it cleanly (idle connections closed first, or the drain waits on them).
    drop((answers, reflection, catalog_channel, media_channel));
    let pid = up.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = up.0.wait().unwrap();
    assert!(status.success(), "ottr up exits 0 on SIGTERM, got {status}");
}

/// A one-message request stream.
fn tokio_stream_once<T: Send + 'static>(item: T) -> impl tonic::codegen::tokio_stream::Stream<Item = T> {
    tonic::codegen::tokio_stream::iter([item])
}
