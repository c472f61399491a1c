//! `--ready-file`: written once every listener is bound, atomically, naming each
//! service's port; removed again when the process stops.

use std::{process::Command, time::Duration};

use ottr_testkit::process::Process;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::helpers::{Running, ScratchDatabase, ottr};

async fn serving(port: u16, service: &str) -> i32 {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await
        .expect("the port in the ready file accepts connections at once");
    HealthClient::new(channel).check(HealthCheckRequest { service: service.into() }).await.unwrap().into_inner().status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ottr_serve_replaces_a_stale_ready_file_with_its_port_and_removes_it_on_sigterm() {
    let db = ScratchDatabase::new();
    let migrated = ottr(&db).arg("migrate").output().unwrap();
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    let dir = std::env::temp_dir().join(format!("{}-ready", db.name));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("auth.json");
    std::fs::write(&path, r#"{"auth": {"address": "127.0.0.1:1", "port": 1}}"#).unwrap();

    let mut serve = Running(ottr(&db).args(["serve", "auth", "--ready-file"]).arg(&path).spawn().unwrap());
    let mut ready = None;
    for _ in 0..400 {
        if let Ok(bytes) = std::fs::read(&path) {
            let json: serde_json::Value = serde_json::from_slice(&bytes).expect("a reader never sees half a file");
            if json["auth"]["port"] != 1 {
                ready = Some(json);
                break;
            }
        }
        assert!(serve.0.try_wait().unwrap().is_none(), "ottr serve auth exited early");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready = ready.expect("the ready file appears with a fresh port");
    let port = u16::try_from(ready["auth"]["port"].as_u64().unwrap()).unwrap();
    assert_eq!(ready["auth"]["address"], format!("127.0.0.1:{port}"));
    assert_eq!(ready.as_object().unwrap().len(), 1, "only the service started here: {ready}");
    assert_eq!(serving(port, "ottr.auth.v1.AuthService").await, ServingStatus::Serving as i32);
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["auth.json"], "no temporary file is left beside it");

    assert!(Command::new("kill").args(["-TERM", &serve.0.id().to_string()]).status().unwrap().success());
    assert!(serve.0.wait().unwrap().success());
    assert!(!path.exists(), "a stopped process leaves no ready file behind");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ottr_up_names_all_four_services_in_its_ready_file() {
    let db = ScratchDatabase::new();
    let dir = std::env::temp_dir().join(format!("{}-ready", db.name));
    std::fs::create_dir_all(&dir).unwrap();
    let command = ottr(&db);
    let env: Vec<(String, String)> =
        command.get_envs().filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v?.to_str()?.to_owned()))).collect();
    let up = Process::start(
        env!("CARGO_BIN_EXE_ottr").as_ref(),
        &["up"],
        &env,
        &dir.join("up.log"),
        Duration::from_secs(120),
    )
    .unwrap();
    let ports: Vec<u16> = ["auth", "catalog", "media", "edge"].map(|s| up.port(s).unwrap()).into();
    let mut distinct = ports.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "{ports:?}");
    assert_eq!(serving(ports[1], "ottr.catalog.v1.CatalogService").await, ServingStatus::Serving as i32);
    assert_eq!(serving(ports[2], "ottr.media.v1.MediaService").await, ServingStatus::Serving as i32);
    let readyz = reqwest::get(format!("http://127.0.0.1:{}/readyz", ports[3])).await.unwrap();
    assert_eq!(readyz.status(), 200);
    drop(up);
    std::fs::remove_dir_all(dir).unwrap();
}
