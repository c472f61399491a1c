//! An off-the-shelf gRPC-web JavaScript client (@connectrpc/connect-web, in Node, from
//! npm) drives the edge: sign in, list titles, follow a job's progress stream.

use std::ffi::OsStr;

use sqlx::PgPool;

use crate::helpers::{node, spawn_stack};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn connect_web_signs_in_lists_titles_and_streams_job_progress(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    stack.playable_movie().await;
    let asset = stack.upload(stack.clip(8)).await;
    let descriptors = std::env::temp_dir().join(format!("ottr-descriptors-{}.bin", uuid::Uuid::new_v4().simple()));
    std::fs::write(&descriptors, ottr_proto::FILE_DESCRIPTOR_SET).unwrap();
    let args: [&OsStr; 5] = [
        stack.edge.as_ref(),
        descriptors.as_ref(),
        "editor@example.org".as_ref(),
        "a fine passphrase".as_ref(),
        asset.job_id.as_ref(),
    ];
    let (status, log) = node("tests/grpc-web/client.mjs", args).await;
    let _ = std::fs::remove_file(&descriptors);
    assert!(status.success(), "{log}");
    assert!(log.contains("1 titles listed") && log.contains("wrong password refused (invalid_credentials)"), "{log}");
    println!("{log}");
}
