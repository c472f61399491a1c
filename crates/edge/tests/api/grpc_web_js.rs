//! An off-the-shelf gRPC-web JavaScript client (@connectrpc/connect-web, in Node, from
//! npm) drives the edge: sign in, list titles, follow a job's progress stream.

use sqlx::PgPool;

use crate::helpers::spawn_stack;

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn connect_web_signs_in_lists_titles_and_streams_job_progress(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    stack.playable_movie().await;
    let asset = stack.upload(stack.clip(8)).await;
    let descriptors = std::env::temp_dir().join(format!("ottr-descriptors-{}.bin", uuid::Uuid::new_v4().simple()));
    std::fs::write(&descriptors, ottr_proto::FILE_DESCRIPTOR_SET).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/grpc-web/client.mjs");
    let out = tokio::process::Command::new("node")
        .arg(script)
        .arg(&stack.edge)
        .arg(&descriptors)
        .args(["editor@example.org", "a fine passphrase", &asset.job_id])
        .output()
        .await
        .expect("node is installed by scripts/setup.sh");
    let _ = std::fs::remove_file(&descriptors);
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{log}");
    assert!(log.contains("1 titles listed") && log.contains("wrong password refused (invalid_credentials)"), "{log}");
    println!("{log}");
}
