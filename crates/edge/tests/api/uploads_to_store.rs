//! tus PATCHes on an S3 store (the test S3 server): whole parts go from the edge straight
//! to the store by presigned URL, media records them once the store's list agrees, and
//! whatever goes wrong on the way loses no byte the client sent and corrupts nothing.

use sqlx::PgPool;

use ottr_storage::S3Settings;
use ottr_testkit::s3::S3Server;

use crate::{
    helpers::{Stack, spawn_stack_adjusted},
    uploads::{create, offset, patch, tus_js_resume},
};

const MIB: usize = 1024 * 1024;

/// The stack on an S3 store served from `root`, in parts of 5 MiB (S3's smallest), so the
/// large clip (about 13.4 MiB) makes two whole parts and a short last one.
async fn stack_on_s3(pool: PgPool) -> (Stack, S3Server) {
    stack_on_s3_with(pool, |_| {}).await
}

/// The same, with the edge's settings changed by `edit` first.
async fn stack_on_s3_with(pool: PgPool, edit: impl FnOnce(&mut ottr_edge::EdgeSettings)) -> (Stack, S3Server) {
    let root = std::env::temp_dir().join(format!("ottr-edge-s3-{}", uuid::Uuid::new_v4().simple()));
    let server = S3Server::start(&root, "ottr-test-access", "ottr-test-secret-key").await.unwrap();
    let endpoint = server.endpoint.clone();
    let stack = spawn_stack_adjusted(pool, edit, move |media| {
        media.storage.backend = "s3".into();
        media.storage.s3 = S3Settings {
            endpoint,
            bucket: "ottr-edge".into(),
            access_key: "ottr-test-access".into(),
            secret_key: "ottr-test-secret-key".to_owned().into(),
            ..Default::default()
        };
        media.uploads.part_mib = 5;
        media.worker.enabled = false; // the upload is under test, not the transcode
    })
    .await;
    (stack, server)
}

/// The numbers of an upload's recorded parts, and the highest number handed out.
async fn numbers(pool: &PgPool, location: &str) -> (Vec<i64>, i32) {
    let id = location.rsplit('/').next().and_then(|last| last.split('?').next()).unwrap();
    let (parts, issued): (serde_json::Value, i32) =
        sqlx::query_as("SELECT parts, parts_issued FROM media.uploads WHERE id = $1::uuid")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap();
    let numbers = parts.as_array().unwrap().iter().map(|part| part["number"].as_i64().unwrap()).collect();
    (numbers, issued)
}

/// Waits until a PATCH of the upload at `location` has had its plan.
async fn wait_for_plan(pool: &PgPool, location: &str) {
    for _ in 0..400 {
        if numbers(pool, location).await.1 > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no PATCH of {location} was planned");
}

async fn source(stack: &Stack, finished: &reqwest::Response) -> Vec<u8> {
    let asset = finished.headers()["ottr-asset-id"].to_str().unwrap();
    stack.media_ctx.store.get_bytes(&format!("sources/{asset}/source.mp4")).await.unwrap()
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn whole_parts_go_from_the_edge_straight_to_the_store_and_the_rest_through_media(pool: PgPool) {
    let (stack, _server) = stack_on_s3(pool.clone()).await;
    let large = stack.large_clip();
    let length = large.len() as u64;

    // One PATCH for the whole file: every part by presigned URL, the short last one too.
    let location = create(&stack, &stack.editor, length).await.headers()["location"].to_str().unwrap().to_owned();
    let longer = patch(&stack, &location, 0, &[&large[..], b"more"].concat(), None).await;
    assert_eq!(longer.status(), 413, "past the Upload-Length declared");
    assert_eq!(longer.json::<serde_json::Value>().await.unwrap()["code"], "upload_too_large");
    assert_eq!(numbers(&pool, &location).await, (vec![], 0), "refused before any part was planned");
    let elsewhere = patch(&stack, &location, MIB as u64, &large[MIB..], None).await;
    assert_eq!(elsewhere.status(), 409, "not at the upload's offset");
    assert_eq!(elsewhere.headers()["upload-offset"], "0");
    assert_eq!(numbers(&pool, &location).await, (vec![], 0), "nothing planned for the wrong offset");
    let whole = patch(&stack, &location, 0, &large, None).await;
    assert_eq!(whole.status(), 204);
    assert_eq!(numbers(&pool, &location).await, (vec![1, 2, 3], 3), "three parts, each handed out by a plan");
    assert!(source(&stack, &whole).await == large, "the stored source is the file, byte for byte");

    // 2 MiB first (too few for a part: they wait in the row), then the rest: the part they
    // begin is completed through media, and the parts after it go straight to the store.
    let location = create(&stack, &stack.editor, length).await.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(patch(&stack, &location, 0, &large[..2 * MIB], None).await.status(), 204);
    assert_eq!(numbers(&pool, &location).await, (vec![], 0), "nothing planned for less than a part");
    let rest = patch(&stack, &location, 2 * MIB as u64, &large[2 * MIB..], None).await;
    assert_eq!(rest.status(), 204);
    assert_eq!(numbers(&pool, &location).await, (vec![1, 2, 3], 3), "part 1 through media, 2 and 3 planned");
    assert!(source(&stack, &rest).await == large, "the stored source is the file, byte for byte");

    // An expired upload: gone, and nothing is planned for it.
    let location = create(&stack, &stack.editor, length).await.headers()["location"].to_str().unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap();
    sqlx::query("UPDATE media.uploads SET expires_at = now() - interval '1 second' WHERE id = $1::uuid")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let late = patch(&stack, &location, 0, &large, None).await;
    assert_eq!(late.status(), 410);
    assert_eq!(late.json::<serde_json::Value>().await.unwrap()["code"], "upload_expired");
    assert_eq!(numbers(&pool, &location).await, (vec![], 0));
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_patch_broken_inside_a_part_loses_no_byte_it_sent(pool: PgPool) {
    let (stack, _server) = stack_on_s3(pool.clone()).await;
    let large = stack.large_clip();
    let location =
        create(&stack, &stack.editor, large.len() as u64).await.headers()["location"].to_str().unwrap().to_owned();

    // 7 MiB of a PATCH that says it brings the whole file, then the connection ends: part 1
    // went to the store; the 2 MiB of part 2 the edge holds go through media to the row.
    let (more, broken) = stack.patch_in_flight(&location, large.len() as u64, large[..7 * MIB].to_vec()).await;
    drop(more); // the body ends short of its Content-Length
    let _ = broken.await;
    let mut resumed_at = 0;
    for _ in 0..200 {
        resumed_at = offset(&stack, &location).await;
        if resumed_at == 7 * MIB as u64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(resumed_at, 7 * MIB as u64, "every byte the client sent is kept");
    assert_eq!(numbers(&pool, &location).await, (vec![1], 3), "part 1 stored; 2 and 3 were handed out");

    // The rest through media (too few bytes after the kept ones for a part to go direct):
    // its parts are numbered above every number handed out, and the object is whole.
    let last = patch(&stack, &location, 7 * MIB as u64, &large[7 * MIB..], None).await;
    assert_eq!(last.status(), 204);
    assert_eq!(numbers(&pool, &location).await, (vec![1, 4, 5], 3));
    assert!(source(&stack, &last).await == large, "the stored source is the file, byte for byte");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn two_patches_at_once_through_two_edges_each_send_parts_and_only_one_is_recorded(pool: PgPool) {
    let (stack, _server) = stack_on_s3(pool.clone()).await;
    let second = stack.another_edge().await;
    let large = stack.large_clip();
    let location =
        create(&stack, &stack.editor, large.len() as u64).await.headers()["location"].to_str().unwrap().to_owned();
    let elsewhere = location.replace(&stack.edge, &second);

    // The first PATCH has its plan (parts 1 and 2) and sends slowly.
    let (more, slow) = stack.patch_in_flight(&location, 10 * MIB as u64, large[..MIB].to_vec()).await;
    wait_for_plan(&pool, &location).await;
    assert_eq!(numbers(&pool, &location).await.1, 2, "the first PATCH planned two parts");
    // The second, through another edge, gets parts 3 and 4, sends them and is recorded.
    let rival = patch(&stack, &elsewhere, 0, &large[..10 * MIB], None).await;
    assert_eq!(rival.status(), 204);
    assert_eq!(numbers(&pool, &location).await, (vec![3, 4], 4));
    // The first one's parts reach the store too, but the offset moved: refused, unrecorded.
    more.send(Ok(large[MIB..10 * MIB].to_vec())).await.unwrap();
    drop(more);
    let slow = slow.await.unwrap().unwrap();
    assert_eq!(slow.status(), 409);
    assert_eq!(slow.json::<serde_json::Value>().await.unwrap()["code"], "upload_offset_mismatch");
    assert_eq!(numbers(&pool, &location).await, (vec![3, 4], 4), "nothing of the refused PATCH is named");

    let last = patch(&stack, &location, 10 * MIB as u64, &large[10 * MIB..], None).await;
    assert_eq!(last.status(), 204);
    assert!(source(&stack, &last).await == large, "the stored source is the file, byte for byte");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn tus_js_client_sends_parts_to_the_store_and_resumes_through_a_second_edge(pool: PgPool) {
    let (stack, _server) = stack_on_s3(pool.clone()).await;
    let second = stack.another_edge().await;
    let large = stack.large_clip();
    // 6 MiB chunks: the first PATCH's whole part goes to the store and its last MiB waits
    // in the row; the client is then cut off and goes on through the other edge.
    let result = tus_js_resume(&stack, &second, &large, 6 * MIB).await;
    let url = result["uploadUrl"].as_str().unwrap();
    assert_eq!(numbers(&pool, url).await, (vec![1, 2, 3], 1), "part 1 by presigned URL, 2 and 3 through media");
    let asset = result["assetId"].as_str().unwrap();
    let stored = stack.media_ctx.store.get_bytes(&format!("sources/{asset}/source.mp4")).await.unwrap();
    assert!(stored == large, "the stored source is the file, byte for byte");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn with_no_memory_left_for_parts_the_edge_sends_the_bytes_through_media(pool: PgPool) {
    let (stack, _server) = stack_on_s3_with(pool.clone(), |edge| edge.limits.upload_parts_mib = 0).await;
    let large = stack.large_clip();
    let location =
        create(&stack, &stack.editor, large.len() as u64).await.headers()["location"].to_str().unwrap().to_owned();
    let whole = patch(&stack, &location, 0, &large, None).await;
    assert_eq!(whole.status(), 204);
    // Planned (1 to 3) but never sent: media numbered its own parts above them.
    assert_eq!(numbers(&pool, &location).await, (vec![4, 5, 6], 3));
    assert!(source(&stack, &whole).await == large, "the stored source is the file, byte for byte");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn parts_in_the_store_are_recorded_once_a_busy_upload_is_free_again(pool: PgPool) {
    let (stack, _server) = stack_on_s3(pool.clone()).await;
    let large = stack.large_clip();
    let location =
        create(&stack, &stack.editor, large.len() as u64).await.headers()["location"].to_str().unwrap().to_owned();
    let id = uuid::Uuid::parse_str(location.rsplit('/').next().unwrap()).unwrap();
    let (key, multipart_id): (String, String) =
        sqlx::query_as("SELECT source_key, multipart_id FROM media.uploads WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();

    // A PATCH of two parts gets its plan, then the upload's write lock is taken from here,
    // as another writer would hold it, while the PATCH's parts reach the store.
    let (more, patching) = stack.patch_in_flight(&location, 10 * MIB as u64, large[..MIB].to_vec()).await;
    wait_for_plan(&pool, &location).await;
    let mut holder = pool.acquire().await.unwrap();
    let lock_key = id.as_u64_pair().0 as i64;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(lock_key).execute(&mut *holder).await.unwrap();
    more.send(Ok(large[MIB..10 * MIB].to_vec())).await.unwrap();
    drop(more);
    for _ in 0..400 {
        if stack.media_ctx.store.stored_parts(&key, &multipart_id, 0).await.unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The edge finds the upload busy when it records the parts, and tries again.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(lock_key).execute(&mut *holder).await.unwrap();

    let recorded = patching.await.unwrap().unwrap();
    assert_eq!(recorded.status(), 204, "recorded once the lock was free");
    assert_eq!(numbers(&pool, &location).await, (vec![1, 2], 2));
    let last = patch(&stack, &location, 10 * MIB as u64, &large[10 * MIB..], None).await;
    assert_eq!(last.status(), 204);
    assert!(source(&stack, &last).await == large, "the stored source is the file, byte for byte");
}
