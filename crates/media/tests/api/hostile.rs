//! Hostile and broken uploads: each is refused with its reason and a stable code, none
//! reaches the network or another file, nothing is stored, and the service goes on.

use std::io::Read;

use ottr_proto::media::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{Scratch, TestApp, clip, code, spawn_app};

async fn refused(app: &TestApp, name: &str, bytes: Vec<u8>) -> tonic::Status {
    let size = bytes.len() as u64;
    let status = app.upload_bytes(name, size, bytes, &app.editor).await.expect_err(name);
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{name}: {status:?}");
    status
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn playlists_disguised_as_mp4_read_no_file_and_reach_no_server(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    // A listener that records whether anyone connects.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();

    let local = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n";
    let remote =
        format!("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nhttp://127.0.0.1:{port}/steal.ts\n#EXT-X-ENDLIST\n");
    for (name, body) in [("passwd.mp4", local.to_owned()), ("remote.mp4", remote)] {
        let status = refused(&app, name, body.into_bytes()).await;
        assert_eq!(code(&status), "unsupported_container", "{name}: {}", status.message());
    }
    let mut probe = [0u8; 1];
    let connected = listener.accept().map(|(mut s, _)| s.read(&mut probe)).is_ok();
    assert!(!connected, "ffprobe made a network request");

    let concat = "ffconcat version 1.0\nfile '/etc/passwd'\n";
    let status = refused(&app, "list.mp4", concat.as_bytes().to_vec()).await;
    assert_eq!(code(&status), "unsupported_container");

    let assets: i64 = sqlx::query_scalar("SELECT count(*) FROM media.assets").fetch_one(&pool).await.unwrap();
    assert_eq!(assets, 0, "nothing was recorded");
    assert!(app.stored("sources/").await.is_empty(), "nothing was stored");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn text_empty_truncated_huge_and_audio_only_files_are_refused_with_their_codes(pool: PgPool) {
    let app = spawn_app(pool).await;
    let scratch = Scratch::new();

    let text = refused(&app, "notes.mp4", b"just some text, not a video\n".to_vec()).await;
    assert!(["unreadable_media", "unsupported_container"].contains(&code(&text)), "{}", code(&text));

    let empty = app.upload_bytes("empty.mp4", 0, Vec::new(), &app.editor).await.unwrap_err();
    assert_eq!(empty.code(), tonic::Code::InvalidArgument);
    assert_eq!(code(&empty), "zero_duration");

    let whole =
        std::fs::read(clip(&scratch.0, "whole.mp4", "testsrc2=size=320x240:rate=25:duration=2", false, &[])).unwrap();
    let truncated = refused(&app, "cut.mp4", whole[..whole.len() / 3].to_vec()).await;
    assert_eq!(code(&truncated), "unreadable_media", "{}", truncated.message());

    // 10000x10000: a small file that decodes to hundreds of megabytes.
    let huge = scratch.0.join("huge.mkv");
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=black:s=10000x10000:d=1",
            "-frames:v",
            "1",
            "-c:v",
            "png",
        ])
        .arg(&huge)
        .status()
        .unwrap();
    assert!(status.success());
    let big = refused(&app, "huge.mkv", std::fs::read(&huge).unwrap()).await;
    assert!(["too_many_pixels", "unreadable_media"].contains(&code(&big)), "{}: {}", code(&big), big.message());

    let audio = scratch.0.join("song.m4a");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac"])
        .arg(&audio)
        .status()
        .unwrap();
    assert!(status.success());
    let song = refused(&app, "song.m4a", std::fs::read(&audio).unwrap()).await;
    assert_eq!(code(&song), "no_video_stream");

    // And the service goes on: a real video after all that is accepted and transcoded.
    let good = clip(&scratch.0, "good.mp4", "testsrc2=size=640x360:rate=25:duration=2", true, &["-pix_fmt", "yuv420p"]);
    let asset = app.upload(&good).await.unwrap();
    let last = app.watch(&asset.job_id).await.pop().unwrap();
    assert_eq!(last.phase, pb::Phase::Ready as i32, "{last:?}");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn sizes_are_enforced_and_only_editors_upload(pool: PgPool) {
    let app = crate::helpers::spawn_app_with(pool, |s| s.limits.max_upload_bytes = 1000).await;
    let too_big = app.upload_bytes("big.mp4", 5000, vec![0; 10], &app.editor).await.unwrap_err();
    assert_eq!(code(&too_big), "upload_too_large");
    let lying = app.upload_bytes("short.mp4", 900, vec![0; 10], &app.editor).await.unwrap_err();
    assert_eq!(code(&lying), "upload_incomplete");
    let longer = app.upload_bytes("long.mp4", 5, vec![0; 10], &app.editor).await.unwrap_err();
    assert_eq!(code(&longer), "upload_incomplete");
    let viewer = app.upload_bytes("v.mp4", 10, vec![0; 10], &app.viewer).await.unwrap_err();
    assert_eq!(viewer.code(), tonic::Code::PermissionDenied);
}
