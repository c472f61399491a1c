//! Stopping the edge: open progress streams end, and a request that will not finish is
//! cut off at the drain limit, so neither can hold a stop forever.

use std::time::Duration;

use sqlx::PgPool;
use tonic::codegen::tokio_stream::StreamExt;

use crate::helpers::spawn_stack_with;

/// Far longer than any drain limit below: the only assertion is that the stop returns.
const GENEROUS: Duration = Duration::from_secs(60);

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_open_progress_stream_does_not_hold_the_edge_s_stop(pool: PgPool) {
    let mut stack = spawn_stack_with(pool, |edge| edge.drain_limit_secs = 30).await;
    let asset = stack.upload(stack.clip(2)).await;
    let events = stack
        .http
        .get(stack.url(&format!("/api/v1/jobs/{}/events?access_token={}", asset.job_id, stack.editor)))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let mut body = events.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: progress"));

    stack.stop_edge.take().unwrap().send(()).unwrap();
    let stopped = tokio::time::timeout(GENEROUS, stack.edge_task.take().unwrap()).await;
    assert!(stopped.expect("the edge stopped").unwrap().is_ok());
    let ended = tokio::time::timeout(GENEROUS, async { while let Some(Ok(_)) = body.next().await {} }).await;
    assert!(ended.is_ok(), "the progress stream ended");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_upload_still_arriving_is_cut_off_at_the_drain_limit(pool: PgPool) {
    let mut stack = spawn_stack_with(pool, |edge| edge.drain_limit_secs = 1).await;
    let created = stack
        .http
        .post(stack.url("/api/v1/uploads"))
        .bearer_auth(&stack.editor)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "1000")
        .send()
        .await
        .unwrap();
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    // A body that never finishes: its sender is held until the end of the test.
    let (more, stuck) = stack.patch_in_flight(&location, 1000, vec![0u8; 10]).await;
    // Wait until the edge is inside the request (its first bytes are stored).
    for _ in 0..500 {
        let head = stack.http.head(&location).bearer_auth(&stack.editor).send().await.unwrap();
        if head.headers()["upload-offset"] == "10" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    stack.stop_edge.take().unwrap().send(()).unwrap();
    let stopped = tokio::time::timeout(GENEROUS, stack.edge_task.take().unwrap()).await;
    assert!(stopped.expect("the edge stopped despite the unfinished upload").unwrap().is_ok());
    drop(more);
    stuck.abort();
}
