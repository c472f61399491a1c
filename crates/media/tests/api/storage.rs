//! The object-store contract, run against the local filesystem and against a real S3
//! server that checks SigV4 signatures (s3s-fs, served in-process on port 0).

use ottr_storage::{LocalStore, ObjectStore, S3Settings, S3Store, StorageError, StorageSettings};
use ottr_testkit::s3::S3Server;

use crate::helpers::Scratch;

const ACCESS: &str = "ottr-test-access";
const SECRET: &str = "ottr-test-secret-key";

/// Starts s3s-fs on a free port, storing in the folder `s3` of `scratch` (returned with
/// it); it stops when the returned server is dropped.
async fn s3_server(scratch: &Scratch) -> (S3Server, std::path::PathBuf) {
    let root = scratch.0.join("s3");
    std::fs::create_dir_all(&root).unwrap();
    (S3Server::start(&root, ACCESS, SECRET).await.unwrap(), root)
}

fn s3_settings(endpoint: &str, secret: &str) -> S3Settings {
    S3Settings {
        endpoint: endpoint.into(),
        bucket: "ottr-test".into(),
        access_key: ACCESS.into(),
        secret_key: secret.to_owned().into(),
        max_attempts: 2,
        ..Default::default()
    }
}

async fn s3_store(endpoint: &str, secret: &str) -> S3Store {
    S3Store::connect(&s3_settings(endpoint, secret)).await
}

async fn contract(store: &ObjectStore, scratch: &Scratch) {
    // Put, head with Content-Type, get, range.
    store.put_bytes("hls/a/1/master.m3u8", b"#EXTM3U\n".to_vec()).await.unwrap();
    let head = store.head("hls/a/1/master.m3u8").await.unwrap().unwrap();
    assert_eq!(head.size, 8);
    assert_eq!(head.content_type, "application/vnd.apple.mpegurl");
    assert_eq!(store.get_bytes("hls/a/1/master.m3u8").await.unwrap(), b"#EXTM3U\n");
    assert_eq!(store.get_range("hls/a/1/master.m3u8", 1, Some(3)).await.unwrap(), b"EXT");
    assert_eq!(store.get_range("hls/a/1/master.m3u8", 6, None).await.unwrap(), b"U\n");

    // A file larger than one part goes up in parts and comes back whole.
    let big: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let path = scratch.0.join("big.bin");
    std::fs::write(&path, &big).unwrap();
    store.put_file("sources/a/source.mp4", &path).await.unwrap();
    let meta = store.head("sources/a/source.mp4").await.unwrap().unwrap();
    assert_eq!((meta.size, meta.content_type.as_str()), (big.len() as u64, "video/mp4"));
    let back = scratch.0.join("back.bin");
    store.download("sources/a/source.mp4", &back).await.unwrap();
    assert!(std::fs::read(&back).unwrap() == big, "the round trip is byte-exact");

    // Segments, listing, deleting a prefix.
    for i in 0..3 {
        store.put_bytes(&format!("hls/a/1/720p/seg_0000{i}.m4s"), vec![i; 10]).await.unwrap();
    }
    assert_eq!(store.head("hls/a/1/720p/seg_00000.m4s").await.unwrap().unwrap().content_type, "video/iso.segment");
    assert_eq!(
        store.list("hls/a/1/").await.unwrap(),
        vec![
            "hls/a/1/720p/seg_00000.m4s",
            "hls/a/1/720p/seg_00001.m4s",
            "hls/a/1/720p/seg_00002.m4s",
            "hls/a/1/master.m3u8"
        ]
    );
    assert_eq!(store.delete_prefix("hls/a/1/").await.unwrap(), 4);
    assert!(store.list("hls/a/").await.unwrap().is_empty());
    assert_eq!(store.list("sources/").await.unwrap(), vec!["sources/a/source.mp4"]);

    // Missing objects and bad keys.
    assert!(store.head("hls/a/1/nothing.m4s").await.unwrap().is_none());
    assert!(matches!(store.get_bytes("hls/a/1/nothing.m4s").await, Err(StorageError::NotFound(_))));
    store.delete("hls/a/1/nothing.m4s").await.unwrap();
    for bad in ["../etc/passwd", "/abs", "a//b"] {
        assert!(matches!(store.put_bytes(bad, vec![1]).await, Err(StorageError::BadKey(_))), "{bad}");
    }
}

#[tokio::test]
async fn the_local_store_keeps_the_contract() {
    let scratch = Scratch::new();
    let store = ObjectStore::Local(LocalStore::new(scratch.0.join("objects")));
    contract(&store, &scratch).await;
}

#[tokio::test]
async fn the_s3_store_keeps_the_contract_against_a_signature_checking_server() {
    let scratch = Scratch::new();
    let (server, _) = s3_server(&scratch).await;
    let store = s3_store(&server.endpoint, SECRET).await;
    store.ensure_bucket().await.unwrap();
    contract(&ObjectStore::S3(store), &scratch).await;
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_s3_server() {
    let scratch = Scratch::new();
    let (server, root) = s3_server(&scratch).await;
    s3_store(&server.endpoint, SECRET).await.ensure_bucket().await.unwrap();
    let forged = ObjectStore::S3(s3_store(&server.endpoint, "not-the-secret").await);
    let refused = forged.put_bytes("hls/a/1/x.m4s", vec![1]).await.unwrap_err();
    assert!(matches!(refused, StorageError::S3(_)), "{refused}");
    assert!(std::fs::read_dir(root.join("ottr-test")).unwrap().next().is_none(), "nothing was written");
}

#[tokio::test]
async fn a_read_only_opening_creates_no_bucket_and_reads_what_the_writer_stored() {
    let scratch = Scratch::new();
    let (server, root) = s3_server(&scratch).await;
    let settings =
        StorageSettings { backend: "s3".into(), s3: s3_settings(&server.endpoint, SECRET), ..Default::default() };

    let reader = ObjectStore::open_read_only(&settings).await.unwrap();
    assert!(reader.get_bytes("hls/a/1/master.m3u8").await.is_err(), "there is no bucket to read from");
    assert!(std::fs::read_dir(&root).unwrap().next().is_none(), "opening to read created no bucket");

    let writer = ObjectStore::open(&settings).await.unwrap();
    assert!(root.join("ottr-test").is_dir(), "opening to write created the bucket");
    writer.put_bytes("hls/a/1/720p/seg_00001.m4s", (0..100u8).collect()).await.unwrap();
    assert_eq!(reader.get_range("hls/a/1/720p/seg_00001.m4s", 10, Some(14)).await.unwrap(), vec![10, 11, 12, 13, 14]);
    assert_eq!(reader.get_range("hls/a/1/720p/seg_00001.m4s", 97, None).await.unwrap(), vec![97, 98, 99]);
    assert!(matches!(reader.get_range("hls/a/1/none.m4s", 0, None).await, Err(StorageError::NotFound(_))));

    let local_root = scratch.0.join("objects");
    let local = StorageSettings { local_root: local_root.clone(), ..Default::default() };
    let reader = ObjectStore::open_read_only(&local).await.unwrap();
    assert!(reader.head("hls/a/1/master.m3u8").await.unwrap().is_none());
    assert!(!local_root.exists(), "opening to read created no folder");
    let unknown = StorageSettings { backend: "ftp".into(), ..Default::default() };
    assert!(matches!(ObjectStore::open_read_only(&unknown).await, Err(StorageError::UnknownBackend(_))));
}

/// The test server completes a multipart upload without copying it (testkit's
/// `s3::completion`: the parts stay and a manifest lists them, as in MinIO), and still
/// checks what S3 checks: the listed ETags must be the stored parts', every part but the
/// last must hold 5 MiB, part numbers may skip but must rise. A refused completion changes
/// nothing, a completed one leaves none of the upload's files behind, and the object reads,
/// in whole and in ranges across parts, is replaced and is deleted as any other.
#[tokio::test]
async fn the_s3_test_server_completes_without_copying_parts_and_checks_them_as_s3_does() {
    let scratch = Scratch::new();
    let (server, root) = s3_server(&scratch).await;
    let s3 = s3_store(&server.endpoint, SECRET).await;
    s3.ensure_bucket().await.unwrap();
    let store = ObjectStore::S3(s3);
    let key = "sources/joined/source.mp4";
    let upload = store.begin_upload(key).await.unwrap();
    let mib = 1024 * 1024;
    let filled = |byte: u8, len: usize| bytes::Bytes::from(vec![byte; len]);
    let first = store.put_part(key, &upload, 1, 0, filled(1, 6 * mib)).await.unwrap();
    let short = store.put_part(key, &upload, 2, 6 * mib as u64, filled(2, 3 * mib)).await.unwrap();
    let last = store.put_part(key, &upload, 4, 9 * mib as u64, filled(4, mib)).await.unwrap();

    let forged = ottr_storage::Part { etag: "\"00000000000000000000000000000000\"".into(), ..first.clone() };
    let refusals = [
        (vec![forged, last.clone()], "an ETag that is not the stored part's"),
        (vec![first.clone(), short.clone(), last.clone()], "a part short of 5 MiB before the last"),
        (vec![last.clone(), first.clone()], "parts out of order"),
        (vec![first.clone(), ottr_storage::Part { number: 3, ..last.clone() }], "a part never uploaded"),
    ];
    for (parts, what) in refusals {
        assert!(store.complete_upload(key, &upload, &parts).await.is_err(), "{what} is refused");
        assert!(store.head(key).await.unwrap().is_none(), "{what}: no object");
    }

    store.complete_upload(key, &upload, &[first, last]).await.unwrap();
    let meta = store.head(key).await.unwrap().unwrap();
    assert_eq!((meta.size, meta.content_type.as_str()), (7 * mib as u64, "video/mp4"));
    let object = store.get_bytes(key).await.unwrap();
    assert!(object[..6 * mib].iter().all(|&b| b == 1) && object[6 * mib..].iter().all(|&b| b == 4), "parts 1 and 4");
    let left: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(&upload))
        .collect();
    assert!(left.is_empty(), "nothing of the upload is left: {left:?}");
    let on_disk = std::fs::metadata(root.join("ottr-test").join(key)).unwrap();
    assert!(std::os::unix::fs::MetadataExt::blocks(&on_disk) * 512 < mib as u64, "no byte was copied into the object");

    let across = store.get_range(key, 6 * mib as u64 - 2, Some(6 * mib as u64 + 1)).await.unwrap();
    assert_eq!(across, [1, 1, 4, 4], "a range across two parts");
    assert_eq!(store.get_range(key, 7 * mib as u64 - 1, None).await.unwrap(), [4], "a range to the end");
    let assembled = |root: &std::path::Path| {
        std::fs::read_dir(root)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(".assembled-"))
            .count()
    };
    assert_eq!(assembled(&root), 3, "two parts and their manifest");
    store.put_bytes(key, b"plain".to_vec()).await.unwrap();
    assert_eq!(store.get_bytes(key).await.unwrap(), b"plain", "a PUT replaces an assembled object");
    assert_eq!(assembled(&root), 0, "and its parts go");

    let again = store.begin_upload(key).await.unwrap();
    let part = store.put_part(key, &again, 1, 0, filled(7, 2 * mib)).await.unwrap();
    store.complete_upload(key, &again, &[part]).await.unwrap();
    assert_eq!(store.get_bytes(key).await.unwrap(), vec![7; 2 * mib]);
    store.delete(key).await.unwrap();
    assert!(store.head(key).await.unwrap().is_none());
    assert_eq!(assembled(&root), 0, "a deleted assembled object takes its parts with it");

    // A completion that fails after its checks (here the key's path is a folder) leaves
    // the upload as it was: once the obstacle is gone, the same completion succeeds.
    let blocked = "sources/blocked";
    store.put_bytes(&format!("{blocked}/inner"), b"x".to_vec()).await.unwrap();
    let upload = store.begin_upload(blocked).await.unwrap();
    let part = store.put_part(blocked, &upload, 1, 0, filled(9, mib)).await.unwrap();
    assert!(store.complete_upload(blocked, &upload, std::slice::from_ref(&part)).await.is_err());
    assert_eq!(assembled(&root), 0, "nothing of the failed attempt stays");
    std::fs::remove_dir_all(root.join("ottr-test").join(blocked)).unwrap();
    store.complete_upload(blocked, &upload, &[part]).await.unwrap();
    assert_eq!(store.get_bytes(blocked).await.unwrap(), vec![9; mib]);
}
