//! Resumable upload over tus 1.0, then the transcode's progress as Server-Sent Events.

use aws_lc_rs::digest;
use base64::{Engine, engine::general_purpose::STANDARD};
use sqlx::PgPool;
use tonic::codegen::tokio_stream::StreamExt;

use crate::helpers::{Stack, spawn_stack};

pub(crate) async fn create(stack: &Stack, token: &str, length: u64) -> reqwest::Response {
    stack
        .http
        .post(stack.url("/api/v1/uploads"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", format!("filename {}", STANDARD.encode("clip.mp4")))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn patch(
    stack: &Stack,
    location: &str,
    offset: u64,
    bytes: &[u8],
    checksum: Option<String>,
) -> reqwest::Response {
    let mut request = stack
        .http
        .patch(location)
        .bearer_auth(&stack.editor)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", offset.to_string());
    if let Some(checksum) = checksum {
        request = request.header("Upload-Checksum", checksum);
    }
    request.body(bytes.to_vec()).send().await.unwrap()
}

pub(crate) async fn offset(stack: &Stack, location: &str) -> u64 {
    let head =
        stack.http.head(location).bearer_auth(&stack.editor).header("Tus-Resumable", "1.0.0").send().await.unwrap();
    assert_eq!(head.status(), 200);
    head.headers()["upload-offset"].to_str().unwrap().parse().unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256 {}", STANDARD.encode(digest::digest(&digest::SHA256, bytes).as_ref()))
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_interrupted_upload_resumes_bad_chunks_change_nothing_and_progress_streams_to_ready(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let clip = stack.clip(4);
    let created = create(&stack, &stack.editor, clip.len() as u64).await;
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();

    let half = clip.len() / 2;
    assert_eq!(patch(&stack, &location, 0, &clip[..half], None).await.status(), 204);
    // The connection dropped here; the client asks where to resume.
    assert_eq!(offset(&stack, &location).await, half as u64);

    let wrong_offset = patch(&stack, &location, 10, &clip[10..half], None).await;
    assert_eq!(wrong_offset.status(), 409);
    let corrupt = patch(&stack, &location, half as u64, &clip[half..], Some(sha256(b"something else"))).await;
    assert_eq!(corrupt.status().as_u16(), 460, "checksum mismatch");
    assert_eq!(offset(&stack, &location).await, half as u64, "refused chunks left nothing behind");

    let last = patch(&stack, &location, half as u64, &clip[half..], Some(sha256(&clip[half..]))).await;
    assert_eq!(last.status(), 204);
    assert_eq!(last.headers()["upload-offset"], clip.len().to_string().as_str());
    let job = last.headers()["ottr-job-id"].to_str().unwrap().to_owned();
    let asset = last.headers()["ottr-asset-id"].to_str().unwrap().to_owned();
    assert!(!asset.is_empty());
    assert_eq!(offset(&stack, &location).await, clip.len() as u64);
    // The answer to the last PATCH was lost: HEAD and the same PATCH again name the asset.
    let head = stack.http.head(&location).bearer_auth(&stack.editor).send().await.unwrap();
    assert_eq!(head.headers()["ottr-asset-id"], asset.as_str());
    let again = patch(&stack, &location, clip.len() as u64, &[], None).await;
    assert_eq!(again.status(), 204);
    assert_eq!(again.headers()["ottr-asset-id"], asset.as_str());

    // The browser's view of the transcode: Server-Sent Events, token in the query.
    let events = stack
        .http
        .get(stack.url(&format!("/api/v1/jobs/{job}/events?access_token={}", stack.editor)))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert!(events.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut body = events.bytes_stream();
    let mut text = String::new();
    while let Some(chunk) = body.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        if text.contains("\"phase\":\"ready\"") || text.contains("\"phase\":\"failed\"") {
            break;
        }
    }
    assert!(text.contains("event: progress"), "{text}");
    assert!(text.contains("\"phase\":\"ready\""), "{text}");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn limits_roles_and_ownership_are_enforced_before_a_byte_is_stored(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let huge = create(&stack, &stack.editor, 60 * 1024 * 1024 * 1024).await;
    assert_eq!(huge.status(), 413);
    let body: serde_json::Value = huge.json().await.unwrap();
    assert_eq!(body["code"], "upload_too_large");

    let viewer = stack.viewer().await;
    assert_eq!(create(&stack, &viewer, 100).await.status(), 403);
    let no_length = stack.http.post(stack.url("/api/v1/uploads")).bearer_auth(&stack.editor).send().await.unwrap();
    assert_eq!(no_length.status(), 400);

    let created = create(&stack, &stack.editor, 100).await;
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    ottr_auth::create_user(
        &pool,
        "other-editor@example.org",
        "a fine passphrase",
        &[ottr_runtime::token::Role::Editor],
    )
    .await
    .unwrap();
    let other = stack.sign_in("other-editor@example.org").await;
    let theirs = stack.http.head(&location).bearer_auth(&other).send().await.unwrap();
    assert_eq!(theirs.status(), 404, "another editor's upload does not exist for them");

    let overflow = patch(&stack, &location, 0, &[0u8; 101], None).await;
    assert_eq!(overflow.status(), 413, "more than Upload-Length");
    assert_eq!(offset(&stack, &location).await, 0);

    let deleted = stack.http.delete(&location).bearer_auth(&stack.editor).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(stack.http.head(&location).bearer_auth(&stack.editor).send().await.unwrap().status(), 404);
}

/// The editor's one-request multipart upload of `bytes` named `filename`.
async fn post_file(stack: &Stack, bytes: Vec<u8>, filename: &str) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()));
    stack.http.post(stack.url("/api/v1/uploads/file")).bearer_auth(&stack.editor).multipart(form).send().await.unwrap()
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_small_file_goes_up_in_one_multipart_request(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let response = post_file(&stack, stack.clip(2), "small.mp4").await;
    assert_eq!(response.status(), 200);
    let info: serde_json::Value = response.json().await.unwrap();
    assert_eq!(info["filename"], "small.mp4");
    assert!(!info["job_id"].as_str().unwrap().is_empty());

    let refused = post_file(&stack, b"not a video".to_vec(), "x.mp4").await;
    let status = refused.status().as_u16();
    let body: serde_json::Value = refused.json().await.unwrap();
    let expected = match body["code"].as_str().unwrap() {
        "unreadable_media" => 422,
        "unsupported_container" => 415,
        other => panic!("{other}: {body}"),
    };
    assert_eq!(status, expected, "the HTTP status follows the code");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn tus_refusals_keep_their_statuses_and_headers_and_carry_a_code(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let created = create(&stack, &stack.editor, 10).await;
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let refusal = |response: reqwest::Response| async move {
        assert_eq!(response.headers()["tus-resumable"], "1.0.0", "tus headers on refusals too");
        let status = response.status().as_u16();
        let offset = response.headers().get("upload-offset").map(|v| v.to_str().unwrap().to_owned());
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(!body["message"].as_str().unwrap().is_empty(), "{body}");
        (status, body["code"].as_str().unwrap().to_owned(), offset)
    };

    let wrong_offset = refusal(patch(&stack, &location, 3, b"abc", None).await).await;
    assert_eq!(wrong_offset, (409, "upload_offset_mismatch".into(), Some("0".into())));
    let corrupt = refusal(patch(&stack, &location, 0, b"abc", Some(sha256(b"xyz"))).await).await;
    assert_eq!(corrupt, (460, "checksum_mismatch".into(), None));
    let not_tus = stack
        .http
        .patch(&location)
        .bearer_auth(&stack.editor)
        .header("Content-Type", "text/plain")
        .header("Upload-Offset", "0")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(refusal(not_tus).await, (415, "unsupported_media_type".into(), None));
    let forged = stack.http.head(&location).bearer_auth("not.a.token").send().await.unwrap();
    assert_eq!(forged.status(), 401, "HEAD answers carry no body, only the status");
    let forged = stack
        .http
        .patch(&location)
        .bearer_auth("not.a.token")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(refusal(forged).await, (401, "token_invalid".into(), None), "checked by media, as by every service");

    // A PATCH still arriving holds the upload; a second writer is told it is busy.
    let (more, slow) = stack.patch_in_flight(&location, 7, b"abc".to_vec()).await;
    wait_for_writer(&pool, &location).await;
    let busy = refusal(patch(&stack, &location, 0, b"def", None).await).await;
    assert_eq!(busy, (409, "upload_busy".into(), None));
    more.send(Ok(b"defg".to_vec())).await.unwrap();
    drop(more);
    let done = slow.await.unwrap().unwrap();
    assert_eq!(done.status(), 204);
    assert_eq!(done.headers()["upload-offset"], "7");
}

/// Waits until a PATCH of the upload at `location` holds its write lock (it is inside media).
/// The lock is a session advisory lock keyed by the upload id's first 64 bits (media's
/// `lock_key`); `pg_locks` shows a bigint key as its high and low halves, and is cluster-wide,
/// so only this key in this test's database counts: other tests, auth and catalog hold
/// advisory locks of their own at the same time.
async fn wait_for_writer(pool: &PgPool, location: &str) {
    const HELD: &str = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 \
                        AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                        AND ((classid::bigint << 32) | objid::bigint) = $1";
    let id = location.rsplit('/').next().and_then(|last| last.split('?').next()).unwrap();
    let (high, _) = uuid::Uuid::parse_str(id).unwrap().as_u64_pair();
    for _ in 0..500 {
        let held: i64 = sqlx::query_scalar(HELD).bind(high as i64).fetch_one(pool).await.unwrap();
        if held > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no PATCH took the write lock of {location}");
}

/// The source files and multipart staging files under media's store: what an upload
/// leaves there.
fn sources(stack: &Stack) -> Vec<String> {
    stack.stored_files().into_iter().filter(|path| path.contains("/sources/")).collect()
}

async fn upload_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM media.uploads").fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_upload_media_refuses_leaves_nothing_behind(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let noise: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let created = create(&stack, &stack.editor, noise.len() as u64).await;
    assert_eq!(created.status(), 201);
    assert!(created.headers().contains_key("upload-expires"));
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let half = noise.len() / 2;
    assert_eq!(patch(&stack, &location, 0, &noise[..half], None).await.status(), 204);
    assert_eq!(sources(&stack).len(), 1, "the multipart staging file: {:?}", sources(&stack));
    let refused = patch(&stack, &location, half as u64, &noise[half..], None).await;
    assert_eq!(refused.status(), 422, "random bytes are not media");
    assert_eq!(sources(&stack), Vec::<String>::new());
    assert_eq!(upload_rows(&pool).await, 0);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_unfinished_upload_expires_and_the_sweep_aborts_its_parts(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let large = stack.large_clip();
    let created = create(&stack, &stack.editor, large.len() as u64).await;
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let chunk = 9 * 1024 * 1024; // a whole part, and bytes after it
    assert_eq!(patch(&stack, &location, 0, &large[..chunk], None).await.status(), 204);
    assert_eq!(offset(&stack, &location).await, chunk as u64);
    assert_eq!(sources(&stack).len(), 1, "one staging file holds the parts");

    // The expiry passes (moved, not waited for).
    sqlx::query("UPDATE media.uploads SET expires_at = now() - interval '1 second'").execute(&pool).await.unwrap();
    let head = stack.http.head(&location).bearer_auth(&stack.editor).header("Tus-Resumable", "1.0.0").send().await;
    assert_eq!(head.unwrap().status(), 410, "tus expiration: gone");
    let late = patch(&stack, &location, chunk as u64, &large[chunk..], None).await;
    assert_eq!(late.status(), 410);
    assert_eq!(late.json::<serde_json::Value>().await.unwrap()["code"], "upload_expired");

    let swept = ottr_media::uploads::sweep::sweep(&stack.media_ctx).await.unwrap();
    assert_eq!(swept.uploads, 1);
    assert_eq!(sources(&stack), Vec::<String>::new(), "no orphaned parts");
    assert!(stack.media_ctx.store.pending_uploads("sources/").await.unwrap().is_empty());
    assert_eq!(upload_rows(&pool).await, 0);
    let head = stack.http.head(&location).bearer_auth(&stack.editor).header("Tus-Resumable", "1.0.0").send().await;
    assert_eq!(head.unwrap().status(), 404);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn unfinished_uploads_of_one_user_stay_within_the_quota(pool: PgPool) {
    let stack = crate::helpers::spawn_stack_adjusted(pool, |_| {}, |media| media.uploads.quota_bytes = 1000).await;
    assert_eq!(create(&stack, &stack.editor, 600).await.status(), 201);
    let refused = create(&stack, &stack.editor, 600).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(refused.json::<serde_json::Value>().await.unwrap()["code"], "upload_quota_exceeded");
    assert_eq!(create(&stack, &stack.editor, 400).await.status(), 201, "what is left of the quota");
}

/// tus-js-client uploads `bytes` to the stack's edge in `chunk`-byte PATCHes, is cut off
/// after the first, and resumes through `second`: what the script printed (asserting it
/// was cut off after exactly one chunk and finished through `second`).
pub(crate) async fn tus_js_resume(stack: &Stack, second: &str, bytes: &[u8], chunk: usize) -> serde_json::Value {
    let path = std::env::temp_dir().join(format!("ottr-tus-{}.mp4", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, bytes).unwrap();
    let chunk_bytes = chunk.to_string();
    let (status, out) = crate::helpers::node(
        "tests/uploads/tus_resume.mjs",
        [&stack.edge, second, &stack.editor, path.to_str().unwrap(), &chunk_bytes],
    )
    .await;
    let _ = std::fs::remove_file(&path);
    assert!(status.success(), "{out}");
    let result: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(result["interruptedAt"], chunk, "{out}");
    assert!(result["uploadUrl"].as_str().unwrap().starts_with(second), "{out}");
    result
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn tus_js_client_resumes_through_a_second_edge_and_the_source_is_stored_whole(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let second = stack.another_edge().await;
    let large = stack.large_clip();
    // 3 MiB chunks: the first PATCH ends short of a part (its bytes wait in the row), the
    // next ones complete parts.
    let result = tus_js_resume(&stack, &second, &large, 3 * 1024 * 1024).await;
    let asset = result["assetId"].as_str().unwrap();
    let key = format!("sources/{asset}/source.mp4");
    assert_eq!(
        stack.media_ctx.store.get_bytes(&key).await.unwrap(),
        large,
        "the stored source is the file, byte for byte"
    );
    assert_eq!(sources(&stack).len(), 1, "the source and nothing else: {:?}", sources(&stack));
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn two_patches_at_once_through_two_edges_one_wins_and_nothing_is_corrupted(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let second = stack.another_edge().await;
    let large = stack.large_clip();
    let created = create(&stack, &stack.editor, large.len() as u64).await;
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let elsewhere = location.replace(&stack.edge, &second);

    let half = large.len() / 2;
    let (more, slow) = stack.patch_in_flight(&location, half as u64, large[..1024].to_vec()).await;
    wait_for_writer(&pool, &location).await;
    let rival = patch(&stack, &elsewhere, 0, &large[..half], None).await;
    assert_eq!(rival.status(), 409);
    assert_eq!(rival.json::<serde_json::Value>().await.unwrap()["code"], "upload_busy");
    more.send(Ok(large[1024..half].to_vec())).await.unwrap();
    drop(more);
    assert_eq!(slow.await.unwrap().unwrap().status(), 204);

    let last = patch(&stack, &elsewhere, half as u64, &large[half..], None).await;
    assert_eq!(last.status(), 204, "the second edge carries on");
    let asset = last.headers()["ottr-asset-id"].to_str().unwrap();
    let stored = stack.media_ctx.store.get_bytes(&format!("sources/{asset}/source.mp4")).await.unwrap();
    assert!(stored == large, "the stored source is the file, byte for byte");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_direct_upload_url_works_once_without_a_token_within_its_cap(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let clip = stack.clip(2);
    let grant = stack
        .authed(reqwest::Method::POST, "/api/v1/uploads/direct", &stack.editor)
        .json(&serde_json::json!({"max_bytes": clip.len(), "expires_in_secs": 600}))
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), 200);
    let grant: serde_json::Value = grant.json().await.unwrap();
    let url = grant["upload_url"].as_str().unwrap().to_owned();
    assert_eq!(grant["max_bytes"], clip.len());
    let viewer = stack.viewer().await;
    let refused = stack.authed(reqwest::Method::POST, "/api/v1/uploads/direct", &viewer).send().await.unwrap();
    assert_eq!(refused.status(), 403, "only editors hand out upload URLs");

    let create_at = |length: usize| {
        stack
            .http
            .post(&url)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", format!("filename {}", STANDARD.encode("partner.mp4")))
            .send()
    };
    let too_big = create_at(clip.len() + 1).await.unwrap();
    assert_eq!(too_big.status(), 413, "the cap holds before a byte");
    let created = create_at(clip.len()).await.unwrap();
    assert_eq!(created.status(), 201, "the refused size did not use the URL up");
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("?key="), "{location}");
    let again = create_at(clip.len()).await.unwrap();
    assert_eq!(again.status(), 403);
    assert_eq!(again.json::<serde_json::Value>().await.unwrap()["code"], "direct_upload_invalid");

    let without_key = location.split('?').next().unwrap().to_owned();
    let anonymous = stack.http.head(&without_key).header("Tus-Resumable", "1.0.0").send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "the upload's URL without its key is nobody's");
    let wrong_key = stack.http.head(format!("{without_key}?key=guess")).send().await.unwrap();
    assert_eq!(wrong_key.status(), 404);
    let done = stack
        .http
        .patch(&location)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .body(clip.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 204);
    let asset = done.headers()["ottr-asset-id"].to_str().unwrap().to_owned();
    // The asset is the editor's, like any other upload of theirs.
    let mut media = stack.media.clone();
    let found = media
        .get_asset(crate::helpers::bearer(ottr_proto::media::v1::GetAssetRequest { id: asset.clone() }, &stack.editor))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.filename, "partner.mp4");
}
