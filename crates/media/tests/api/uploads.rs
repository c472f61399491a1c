//! Resumable uploads through the upload RPCs into a real S3 server (s3s-fs, checking
//! signatures): bytes become multipart parts as they arrive, the upload resumes from the
//! stored offset, ffprobe reads the stored object through a presigned URL under the same
//! guards as ever, and the sweep leaves no multipart upload behind.

use std::io::Read;

use ottr_proto::media::v1 as pb;
use ottr_storage::S3Settings;
use ottr_testkit::s3::S3Server;
use sqlx::PgPool;

use crate::helpers::{Scratch, TestApp, bearer, clip, code, spawn_app_with};

const ACCESS: &str = "ottr-test-access";
const SECRET: &str = "ottr-test-secret-key";
const MIB: usize = 1024 * 1024;

/// Media on an S3 store served by `server`.
async fn app_on_s3(pool: PgPool, server: &S3Server) -> TestApp {
    let endpoint = server.endpoint.clone();
    spawn_app_with(pool, move |settings| {
        settings.storage.backend = "s3".into();
        settings.storage.s3 = S3Settings {
            endpoint,
            bucket: "ottr-uploads".into(),
            access_key: ACCESS.into(),
            secret_key: SECRET.to_owned().into(),
            max_attempts: 2,
            ..Default::default()
        };
        settings.worker.enabled = false; // the upload is under test, not the transcode
    })
    .await
}

async fn create(app: &TestApp, length: usize, filename: &str) -> pb::UploadSession {
    let request =
        pb::CreateUploadRequest { length: length as u64, filename: filename.into(), direct_token: String::new() };
    app.client.clone().create_upload(bearer(request, &app.editor)).await.unwrap().into_inner()
}

/// Appends `bytes` at `offset` in 300 KiB messages: a size no part is a multiple of, so
/// messages straddle the parts' ends and are cut there.
async fn append(app: &TestApp, id: &str, offset: usize, bytes: &[u8]) -> Result<pb::UploadSession, tonic::Status> {
    append_declaring(app, id, offset, bytes, None).await
}

/// As [`append`], with the request saying it brings `declared` bytes (as the edge passes on
/// a PATCH's Content-Length), whether or not it then does.
async fn append_declaring(
    app: &TestApp,
    id: &str,
    offset: usize,
    bytes: &[u8],
    declared: Option<usize>,
) -> Result<pb::UploadSession, tonic::Status> {
    let header = pb::AppendHeader {
        upload_id: id.into(),
        offset: offset as u64,
        length: declared.map(|n| n as u64),
        ..Default::default()
    };
    let mut messages = vec![pb::AppendUploadRequest { part: Some(pb::append_upload_request::Part::Header(header)) }];
    messages.extend(bytes.chunks(300 * 1024).map(|chunk| pb::AppendUploadRequest {
        part: Some(pb::append_upload_request::Part::Chunk(chunk.to_vec().into())),
    }));
    let request = bearer(tonic::codegen::tokio_stream::iter(messages), &app.editor);
    app.client.clone().append_upload(request).await.map(tonic::Response::into_inner)
}

/// Multipart uploads the S3 server holds open, read from its folder: s3s-fs does not
/// implement ListMultipartUploads (the store's `pending_uploads`, which the sweep uses
/// on servers that do), so its own files tell: `.upload-<id>.json` per open upload and
/// `.upload_id-<id>.part-<n>` per part.
fn open_multipart(root: &std::path::Path) -> (usize, usize) {
    let names: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let uploads = names.iter().filter(|n| n.starts_with(".upload-") && n.ends_with(".json")).count();
    let parts = names.iter().filter(|n| n.starts_with(".upload_id-")).count();
    (uploads, parts)
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_upload_into_s3_goes_up_in_parts_resumes_and_is_stored_byte_for_byte(pool: PgPool) {
    let scratch = Scratch::new();
    let server = S3Server::start(&scratch.0, ACCESS, SECRET).await.unwrap();
    let app = app_on_s3(pool.clone(), &server).await;
    let source = clip(&scratch.0, "big.mp4", "testsrc2=size=1280x720:rate=25:duration=8", false, &["-qp", "0"]);
    let bytes = std::fs::read(source).unwrap();
    assert!(bytes.len() > 12 * MIB, "large enough for two parts: {}", bytes.len());

    let upload = create(&app, bytes.len(), "big.mp4").await;
    assert_eq!(open_multipart(&scratch.0), (1, 0), "creation begins a multipart upload");
    // 3 MiB: short of a part; the bytes wait in the row, and the offset says so.
    let first = append(&app, &upload.id, 0, &bytes[..3 * MIB]).await.unwrap();
    assert_eq!(first.offset, 3 * MIB as u64);
    let wrong = append(&app, &upload.id, MIB, &bytes[MIB..2 * MIB]).await.unwrap_err();
    assert_eq!(code(&wrong), "upload_offset_mismatch");
    // 9 MiB more: one 8 MiB part goes up, the last 4 MiB wait (under S3's 5 MiB minimum).
    let second = append(&app, &upload.id, 3 * MIB, &bytes[3 * MIB..12 * MIB]).await.unwrap();
    assert_eq!(second.offset, 12 * MIB as u64);
    let parts: serde_json::Value =
        sqlx::query_scalar("SELECT parts FROM media.uploads").fetch_one(&pool).await.unwrap();
    assert_eq!(parts.as_array().unwrap().len(), 1, "{parts}");
    assert_eq!(parts[0]["size"], 8 * MIB);
    assert_eq!(open_multipart(&scratch.0), (1, 1), "one part is on the server");

    let done = append(&app, &upload.id, 12 * MIB, &bytes[12 * MIB..]).await.unwrap();
    assert_eq!(done.offset, bytes.len() as u64);
    assert!(!done.asset_id.is_empty() && !done.job_id.is_empty(), "probed and queued");
    let stored = app.ctx.store.get_bytes(&format!("sources/{}/source.mp4", done.asset_id)).await.unwrap();
    assert!(stored == bytes, "the stored source is the upload, byte for byte");
    assert_eq!(open_multipart(&scratch.0), (0, 0), "completed: no upload or part left");
    let asset = app.asset(&done.asset_id).await;
    assert_eq!(asset.source.unwrap().size_bytes, bytes.len() as u64);
}

/// The parts the row records, by size in MiB.
async fn recorded_parts(pool: &PgPool) -> Vec<u64> {
    let parts: serde_json::Value = sqlx::query_scalar("SELECT parts FROM media.uploads").fetch_one(pool).await.unwrap();
    parts.as_array().unwrap().iter().map(|part| part["size"].as_u64().unwrap() / MIB as u64).collect()
}

/// A request that says how many bytes it brings has its whole parts fed to the store as
/// they arrive, the row's tail first. When it ends inside such a part, that part is given
/// up (the server keeps nothing of it) and the bytes it took are kept as gathered bytes
/// are: as the row's tail under 5 MiB, else as a part of their own under the same number.
/// So a request that breaks off before a part is whole still moves the upload on, and the
/// object is byte-exact at the end.
#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn parts_a_request_holds_whole_go_up_as_they_arrive_and_one_it_ends_inside_is_kept_from_memory(pool: PgPool) {
    let scratch = Scratch::new();
    let server = S3Server::start(&scratch.0, ACCESS, SECRET).await.unwrap();
    let app = app_on_s3(pool.clone(), &server).await;
    let source = clip(&scratch.0, "fed.mp4", "testsrc2=size=1280x720:rate=25:duration=20", false, &["-qp", "0"]);
    let bytes = std::fs::read(source).unwrap();
    // Past 24 MiB, so the third request's second part is whole within the file (a request
    // is taken to bring no more than the upload has left).
    assert!(bytes.len() > 26 * MIB, "large enough for three whole parts: {}", bytes.len());
    let upload = create(&app, bytes.len(), "fed.mp4").await;

    // 3 MiB wait in the row.
    append(&app, &upload.id, 0, &bytes[..3 * MIB]).await.unwrap();
    // Says 13 MiB, brings 1: the fed first part (the tail and the new MiB) is given up,
    // and its 4 MiB wait in the row.
    let cut = append_declaring(&app, &upload.id, 3 * MIB, &bytes[3 * MIB..4 * MIB], Some(13 * MIB)).await.unwrap();
    assert_eq!(cut.offset, 4 * MIB as u64, "nothing the request brought is lost");
    assert!(recorded_parts(&pool).await.is_empty());
    assert_eq!(open_multipart(&scratch.0), (1, 0), "the server kept nothing of the given-up part");
    // Says 8 MiB and brings them: one fed part (4 MiB of tail, 4 new), 4 MiB wait.
    let whole = append_declaring(&app, &upload.id, 4 * MIB, &bytes[4 * MIB..12 * MIB], Some(8 * MIB)).await.unwrap();
    assert_eq!(whole.offset, 12 * MIB as u64);
    assert_eq!(recorded_parts(&pool).await, vec![8]);
    // Says 20 MiB, brings 11: the part with the tail is whole; the next is given up after
    // 7 MiB, which go up from memory as part 3.
    let second = append_declaring(&app, &upload.id, 12 * MIB, &bytes[12 * MIB..23 * MIB], Some(20 * MIB));
    assert_eq!(second.await.unwrap().offset, 23 * MIB as u64);
    assert_eq!(recorded_parts(&pool).await, vec![8, 8, 7]);
    assert_eq!(open_multipart(&scratch.0), (1, 3));

    let rest = &bytes[23 * MIB..];
    let done = append_declaring(&app, &upload.id, 23 * MIB, rest, Some(rest.len())).await.unwrap();
    assert_eq!(done.offset, bytes.len() as u64);
    let stored = app.ctx.store.get_bytes(&format!("sources/{}/source.mp4", done.asset_id)).await.unwrap();
    assert!(stored == bytes, "the stored source is the upload, byte for byte");
    assert_eq!(open_multipart(&scratch.0), (0, 0));
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn the_sweep_aborts_expired_uploads_and_leaves_no_multipart_upload(pool: PgPool) {
    let scratch = Scratch::new();
    let server = S3Server::start(&scratch.0, ACCESS, SECRET).await.unwrap();
    let app = app_on_s3(pool.clone(), &server).await;
    let noise: Vec<u8> = (0..12 * MIB as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let abandoned = create(&app, 100 * MIB, "abandoned.mp4").await;
    append(&app, &abandoned.id, 0, &noise).await.unwrap();
    let fresh = create(&app, 100 * MIB, "fresh.mp4").await;
    assert_eq!(open_multipart(&scratch.0), (2, 1), "the abandoned upload has a part on the server");

    sqlx::query("UPDATE media.uploads SET expires_at = now() - interval '1 minute' WHERE id = $1")
        .bind(uuid::Uuid::parse_str(&abandoned.id).unwrap())
        .execute(&pool)
        .await
        .unwrap();
    let late = append(&app, &abandoned.id, 12 * MIB, b"more").await.unwrap_err();
    assert_eq!(code(&late), "upload_expired");
    let swept = ottr_media::uploads::sweep::sweep(&app.ctx).await.unwrap();
    assert_eq!(swept.uploads, 1);
    assert_eq!(open_multipart(&scratch.0), (1, 0), "only the fresh upload is open; no orphaned part");
    let rows: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM media.uploads").fetch_all(&pool).await.unwrap();
    assert_eq!(rows, vec![uuid::Uuid::parse_str(&fresh.id).unwrap()]);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_playlist_uploaded_into_s3_is_probed_through_its_url_and_reaches_no_other_server(pool: PgPool) {
    let scratch = Scratch::new();
    let server = S3Server::start(&scratch.0, ACCESS, SECRET).await.unwrap();
    let app = app_on_s3(pool.clone(), &server).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let playlist =
        format!("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nhttp://127.0.0.1:{port}/steal.ts\n#EXT-X-ENDLIST\n");
    let upload = create(&app, playlist.len(), "remote.mp4").await;
    let refused = append(&app, &upload.id, 0, playlist.as_bytes()).await.unwrap_err();
    assert_eq!(code(&refused), "unsupported_container", "{}", refused.message());
    assert!(!refused.message().contains("X-Amz-"), "no presigned URL is told: {}", refused.message());
    let mut byte = [0u8; 1];
    assert!(listener.accept().map(|(mut s, _)| s.read(&mut byte)).is_err(), "ffprobe made a network request");
    assert!(app.stored("sources/").await.is_empty(), "the refused source was removed");
    assert_eq!(open_multipart(&scratch.0), (0, 0));
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM media.uploads").fetch_one(&pool).await.unwrap();
    assert_eq!(rows, 0, "nothing resumes a refused upload");
}

/// Write locks are taken on connections kept between requests, and a kept connection
/// never carries a lock to the next writer: a released lock is free at once for anyone,
/// its connection serves the next upload's lock, and a lock dropped while held (a
/// cancelled request) closes its connection instead, so PostgreSQL lets go of it too.
#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn write_locks_are_kept_between_requests_and_never_carry_a_lock_over(pool: PgPool) {
    use ottr_media::store::write_lock::{WriteLock, WriteLocks};
    let locks = WriteLocks::new(&pool, 2);
    let stranger = WriteLocks::new(&pool, 0); // keeps nothing: a fresh session each time
    let (first, second) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());

    let held = WriteLock::try_take(&locks, first).await.unwrap().expect("free");
    assert!(WriteLock::try_take(&locks, first).await.unwrap().is_none(), "one writer at a time");
    assert!(WriteLock::try_take(&stranger, first).await.unwrap().is_none(), "in any session");
    assert_eq!(locks.idle(), 1, "the refused try's connection is kept: it holds nothing");
    held.release().await;
    assert_eq!(locks.idle(), 2, "a released lock's connection is kept");
    WriteLock::try_take(&stranger, first).await.unwrap().expect("free at once after release").release().await;

    let next = WriteLock::try_take(&locks, second).await.unwrap().expect("free");
    assert_eq!(locks.idle(), 1, "the next lock is taken on a kept connection");
    let again = WriteLock::try_take(&stranger, first).await.unwrap();
    again.expect("no kept connection brought the first upload's lock with it").release().await;

    drop(next); // held: its connection closes instead of being kept
    assert_eq!(locks.idle(), 1, "the dropped lock's connection was not kept");
    let mut freed = false;
    for _ in 0..100 {
        if let Some(lock) = WriteLock::try_take(&stranger, second).await.unwrap() {
            lock.release().await;
            freed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(freed, "PostgreSQL let go of the dropped lock when its connection closed");

    // Kept connections that died (PostgreSQL restarted; here their backends are ended)
    // give way to a fresh one.
    assert_eq!(locks.idle(), 1);
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%advisory%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!ended.is_empty(), "the kept connection's backend was ended");
    let fresh = WriteLock::try_take(&locks, first).await.unwrap().expect("taken on a fresh connection");
    fresh.release().await;
    assert_eq!(locks.idle(), 1, "the fresh connection is kept in the dead one's place");
}

/// An AppendUpload that names parts the caller stored by PlanAppend's URLs, and brings no
/// bytes of its own.
async fn append_stored(
    app: &TestApp,
    id: &str,
    offset: usize,
    stored: Vec<pb::StoredPart>,
) -> Result<pb::UploadSession, tonic::Status> {
    let header =
        pb::AppendHeader { upload_id: id.into(), offset: offset as u64, stored, length: Some(0), ..Default::default() };
    let messages = [pb::AppendUploadRequest { part: Some(pb::append_upload_request::Part::Header(header)) }];
    let request = bearer(tonic::codegen::tokio_stream::iter(messages), &app.editor);
    app.client.clone().append_upload(request).await.map(tonic::Response::into_inner)
}

/// What the edge does for a PATCH's whole parts, done by hand: plan, PUT by presigned URL,
/// name the parts. A part counts only once the store's own list agrees with its name
/// (number handed out, size, ETag); anything else is refused and records nothing. A
/// number handed out but never recorded is not used again.
#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn parts_sent_by_presigned_url_count_only_as_the_store_holds_them(pool: PgPool) {
    let scratch = Scratch::new();
    let server = S3Server::start(&scratch.0, ACCESS, SECRET).await.unwrap();
    let app = app_on_s3(pool.clone(), &server).await;
    let source = clip(&scratch.0, "big.mp4", "testsrc2=size=1280x720:rate=25:duration=8", false, &["-qp", "0"]);
    let bytes = std::fs::read(source).unwrap();
    let (length, short) = (bytes.len() as u64, (bytes.len() - 8 * MIB) as u64);
    assert!(short > 0 && short < 8 * MIB as u64, "one whole 8 MiB part and a short last one: {length}");

    let upload = create(&app, bytes.len(), "big.mp4").await;
    let request = pb::PlanAppendRequest { upload_id: upload.id.clone(), key: String::new(), offset: 0, length };
    let plan = app.client.clone().plan_append(bearer(request, &app.editor)).await.unwrap().into_inner();
    let planned: Vec<_> = plan.parts.iter().map(|part| (part.number, part.size)).collect();
    assert_eq!(planned, vec![(1, 8 * MIB as u64), (2, short)]);
    assert_eq!(plan.stream_first, 0);

    let http = reqwest::Client::new();
    let first = http.put(&plan.parts[0].url).body(bytes[..8 * MIB].to_vec()).send().await.unwrap();
    assert!(first.status().is_success(), "the presigned URL works without credentials: {}", first.status());
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    // Part 2's URL takes a body of any length; its name must then say what the store holds.
    let cut = http.put(&plan.parts[1].url).body(bytes[8 * MIB..9 * MIB].to_vec()).send().await.unwrap();
    let cut_etag = cut.headers()["etag"].to_str().unwrap().to_owned();

    let named = |number, size: u64, etag: &str| pb::StoredPart { number, size, etag: etag.to_owned() };
    let wrong = [
        vec![named(1, 8 * MIB as u64, "\"00000000000000000000000000000000\"")],
        vec![named(1, 5 * MIB as u64, &etag)],
        vec![named(3, 8 * MIB as u64, &etag)],
        vec![named(1, 8 * MIB as u64, &etag), named(2, short, &cut_etag)],
    ];
    for stored in wrong {
        let refused = append_stored(&app, &upload.id, 0, stored.clone()).await.unwrap_err();
        assert_eq!(code(&refused), "invalid_argument", "{stored:?}: {refused:?}");
    }
    assert!(recorded_parts(&pool).await.is_empty(), "nothing of a refused request is recorded");

    let recorded = append_stored(&app, &upload.id, 0, vec![named(1, 8 * MIB as u64, &etag)]).await.unwrap();
    assert_eq!(recorded.offset, 8 * MIB as u64);
    // The rest through media: numbered above part 2, which was handed out but never counted.
    let done = append(&app, &upload.id, 8 * MIB, &bytes[8 * MIB..]).await.unwrap();
    assert!(!done.asset_id.is_empty(), "completed, probed and queued");
    let numbers: serde_json::Value =
        sqlx::query_scalar("SELECT jsonb_path_query_array(parts, '$[*].number') FROM media.uploads")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(numbers, serde_json::json!([1, 3]));
    let stored = app.ctx.store.get_bytes(&format!("sources/{}/source.mp4", done.asset_id)).await.unwrap();
    assert!(stored == bytes, "the stored source is the upload, byte for byte");
    assert_eq!(open_multipart(&scratch.0), (0, 0), "completed: no upload or part left, part 2's cut one neither");
}
