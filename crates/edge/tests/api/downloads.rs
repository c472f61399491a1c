//! MP4 downloads: a title that offers them hands out a signed progressive MP4 beside the
//! ladder (one rung with its audio, index first), served with Range; one that does not,
//! does not.

use reqwest::{Method, StatusCode, header};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{json_of, spawn_stack};

/// The top-level boxes of an MP4, in file order.
fn top_level_boxes(bytes: &[u8]) -> Vec<String> {
    let mut boxes = Vec::new();
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        boxes.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        let size = match size {
            1 => u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()) as usize,
            0 => bytes.len() - at,
            size => size,
        };
        assert!(size >= 8, "a box of {size} bytes at {at}");
        at += size;
    }
    boxes
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_title_that_offers_downloads_hands_out_a_signed_faststart_mp4_of_its_720p_rung(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let id = stack.playable_movie().await;
    let viewer = stack.viewer().await;
    let playback_path = format!("/api/v1/titles/{id}/playback");

    let playback = json_of(stack.authed(Method::GET, &playback_path, &viewer)).await;
    assert_eq!(playback["download_url"], "", "off unless the title offers it");
    assert_eq!(playback["download_bytes"], 0);

    let title = json_of(stack.authed(Method::GET, &format!("/api/v1/titles/{id}"), &viewer)).await;
    assert_eq!(title["downloadable"], false);
    let edit = json!({
        "kind": "movie", "slug": title["slug"], "title": title["title"],
        "asset_id": title["asset_id"], "downloadable": true,
    });
    let put = stack.authed(Method::PUT, &format!("/api/v1/titles/{id}"), &stack.editor).json(&edit);
    assert_eq!(json_of(put).await["downloadable"], true);

    let playback = json_of(stack.authed(Method::GET, &playback_path, &viewer)).await;
    let url = playback["download_url"].as_str().unwrap().to_owned();
    let size = playback["download_bytes"].as_u64().unwrap();
    assert!(url.contains("/files/") && url.ends_with("/720p.mp4"), "{url}");
    assert!(size > 10_000, "{size} bytes");

    // A player or a download manager asks for a range first.
    let first = stack.http.get(&url).header(header::RANGE, "bytes=0-99").send().await.unwrap();
    assert_eq!(first.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(first.headers()[header::CONTENT_RANGE], format!("bytes 0-99/{size}").as_str());
    let head = first.bytes().await.unwrap();
    assert_eq!((head.len(), &head[4..8]), (100, &b"ftyp"[..]));
    let tail = stack.http.get(&url).header(header::RANGE, format!("bytes={}-", size - 10)).send().await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().len(), 10);

    let whole = stack.http.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()[header::CONTENT_TYPE], "video/mp4");
    let disposition = whole.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment;") && disposition.ends_with("720p.mp4\""), "{disposition}");
    let bytes = whole.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, size);
    assert_eq!(&bytes[..100], &head[..], "the range was the start of the same file");
    let boxes = top_level_boxes(&bytes);
    let (moov, mdat) = (boxes.iter().position(|b| b == "moov"), boxes.iter().position(|b| b == "mdat"));
    assert!(moov.is_some() && moov < mdat, "the index comes before the media (faststart): {boxes:?}");

    let file = std::env::temp_dir().join(format!("ottr-download-{}.mp4", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, &bytes).unwrap();
    let probe = ottr_testkit::probe::show_streams(&file);
    let _ = std::fs::remove_file(&file);
    let streams = probe.unwrap()["streams"].as_array().unwrap().clone();
    let kinds: Vec<(&str, &str)> =
        streams.iter().map(|s| (s["codec_type"].as_str().unwrap(), s["codec_name"].as_str().unwrap())).collect();
    assert_eq!(kinds, [("video", "h264"), ("audio", "aac")], "the rung's picture and the audio, copied");
    assert_eq!((streams[0]["width"].as_u64(), streams[0]["height"].as_u64()), (Some(1280), Some(720)));
    let seconds: f64 = streams[0]["duration"].as_str().unwrap().parse().unwrap();
    assert!((seconds - 6.0).abs() < 0.5, "the whole film: {seconds} s");

    // The URL is signed: another token (or none) gets nothing.
    let forged = url.replacen("/files/", "/files/x", 1);
    assert!(!stack.http.get(&forged).send().await.unwrap().status().is_success());
}
