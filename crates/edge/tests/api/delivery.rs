//! Signed HLS delivery: ffprobe plays the signed URL over HTTP, reading the master and
//! every rung; tokens, paths and ranges are held to what they grant.

use ottr_edge::hls::token::Signer;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{SECRET, Stack, spawn_stack};

async fn playback(stack: &Stack, id: &str, token: &str) -> Value {
    let response =
        stack.http.get(stack.url(&format!("/api/v1/titles/{id}/playback"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn ffprobe_plays_the_signed_url_reading_every_rung_over_http(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let id = stack.playable_movie().await;
    let viewer = stack.viewer().await;
    let playback = playback(&stack, &id, &viewer).await;
    let url = playback["url"].as_str().unwrap();
    assert!(url.starts_with(&stack.edge) && url.ends_with("/master.m3u8"), "{url}");
    assert_eq!(playback["ready"], true);

    // Async: the edge answering ffprobe runs on this test's own runtime.
    let out = tokio::process::Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_streams", url])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let probe: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sizes = ottr_testkit::probe::video_sizes(&probe);
    assert_eq!(sizes, vec![(640, 360), (854, 480), (1280, 720)], "every rung is reachable through the signed URL");

    // ffmpeg decodes the 360p rung end to end through the edge.
    let rung = url.replace("master.m3u8", "360p/index.m3u8");
    let decoded = tokio::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i", &rung, "-f", "null", "-"])
        .status()
        .await
        .unwrap();
    assert!(decoded.success());

    for image in ["poster_url", "storyboard_url"] {
        let response = stack.http.get(playback[image].as_str().unwrap()).send().await.unwrap();
        assert_eq!(response.status(), 200, "{image}");
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn tokens_paths_and_ranges_get_exactly_what_they_grant(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let id = stack.playable_movie().await;
    let viewer = stack.viewer().await;
    let url = playback(&stack, &id, &viewer).await["url"].as_str().unwrap().to_owned();
    let (base, _) = url.rsplit_once("/master.m3u8").unwrap();
    let (prefix, attempt) = base.rsplit_once('/').unwrap();
    let token = prefix.rsplit_once('/').unwrap().1.to_owned();
    let asset: uuid::Uuid = token.split('.').next().unwrap().parse().unwrap();

    // Headers players and caches rely on.
    let master = stack.http.get(&url).send().await.unwrap();
    assert_eq!(master.headers()["content-type"], "application/vnd.apple.mpegurl");
    assert!(master.headers()["cache-control"].to_str().unwrap().contains("max-age=2"));
    let playlist = stack.http.get(format!("{base}/360p/index.m3u8")).send().await.unwrap().text().await.unwrap();
    let segment = playlist.lines().find(|l| l.ends_with(".m4s")).unwrap().to_owned();
    let segment_url = format!("{base}/360p/{segment}");
    let full = stack.http.get(&segment_url).send().await.unwrap();
    assert_eq!(full.headers()["content-type"], "video/iso.segment");
    assert!(full.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let etag = full.headers()["etag"].clone();
    let bytes = full.bytes().await.unwrap();

    let partial = stack.http.get(&segment_url).header("range", "bytes=10-19").send().await.unwrap();
    assert_eq!(partial.status(), 206);
    assert_eq!(partial.headers()["content-range"], format!("bytes 10-19/{}", bytes.len()).as_str());
    assert_eq!(partial.bytes().await.unwrap(), bytes.slice(10..20));
    let beyond = stack.http.get(&segment_url).header("range", format!("bytes={}-", bytes.len())).send().await.unwrap();
    assert_eq!(beyond.status(), 416);
    assert_eq!(beyond.headers()["content-range"], format!("bytes */{}", bytes.len()).as_str());
    assert_eq!(beyond.json::<Value>().await.unwrap()["code"], "range_not_satisfiable");
    let head = stack.http.head(&segment_url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], bytes.len().to_string().as_str());
    let again = stack.http.get(&segment_url).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(again.status(), 304);

    // Expired, tampered and foreign tokens, traversal, and another asset's objects.
    let past = Signer::new(SECRET.as_bytes()).sign(asset, 1000);
    let foreign = Signer::new(b"someone else's secret").sign(asset, i64::MAX / 2);
    let other_asset = Signer::new(SECRET.as_bytes()).sign(uuid::Uuid::new_v4(), i64::MAX / 2);
    let tampered = token.replacen(".", ".9", 1);
    let cases = [
        (format!("{}/hls/{past}/{attempt}/master.m3u8", stack.edge), 403, "playback_token_expired"),
        (format!("{}/hls/{tampered}/{attempt}/master.m3u8", stack.edge), 403, "playback_token_invalid"),
        (format!("{}/hls/{foreign}/{attempt}/master.m3u8", stack.edge), 403, "playback_token_invalid"),
        (format!("{}/hls/{other_asset}/{attempt}/master.m3u8", stack.edge), 404, "not_found"),
        (format!("{}/hls/{token}/..%2f..%2f..%2fetc%2fpasswd", stack.edge), 404, "not_found"),
        (format!("{}/hls/{token}/{attempt}/nothing.m4s", stack.edge), 404, "not_found"),
    ];
    for (url, status, code) in cases {
        let response = stack.http.get(&url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{url}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], code, "{url}");
    }

    // Raw requests, because HTTP clients tidy `..` away before sending.
    for path in [
        format!("/hls/{token}/../../sources/{asset}/source.mp4"),
        format!("/hls/{token}/%2e%2e/%2e%2e/sources/{asset}/source.mp4"),
        format!("/images/{token}/..%2f..%2fsources%2f{asset}%2fsource.mp4"),
    ] {
        let answer = raw_get(&stack.edge, &path).await;
        assert!(answer.starts_with("HTTP/1.1 404"), "{path}: {answer}");
        assert!(!answer.contains("ftyp"), "not a byte of the source leaks");
    }
}

/// Sends `GET path` exactly as written and returns the whole answer.
async fn raw_get(base: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn playback_needs_a_signed_in_caller_who_may_see_the_title(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let id = stack.playable_movie().await;
    let anonymous = stack.http.get(stack.url(&format!("/api/v1/titles/{id}/playback"))).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let viewer = stack.viewer().await;
    let unpublish = ottr_proto::catalog::v1::SetVisibilityRequest {
        id: id.clone(),
        visibility: ottr_proto::catalog::v1::Visibility::Draft as i32,
    };
    stack.catalog.clone().set_visibility(crate::helpers::bearer(unpublish, &stack.editor)).await.unwrap();
    let hidden =
        stack.http.get(stack.url(&format!("/api/v1/titles/{id}/playback"))).bearer_auth(&viewer).send().await.unwrap();
    assert_eq!(hidden.status(), 404, "a draft does not play for viewers");
    let staff = stack
        .http
        .get(stack.url(&format!("/api/v1/titles/{id}/playback")))
        .bearer_auth(&stack.editor)
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status(), 200, "editors play drafts");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_title_without_artwork_shows_its_poster_frame_to_anyone_who_may_see_it(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let id = stack.playable_movie().await;
    let title: Value =
        stack.http.get(stack.url(&format!("/api/v1/titles/{id}"))).send().await.unwrap().json().await.unwrap();
    let route = title["poster_url"].as_str().unwrap();
    assert_eq!(route, format!("/api/v1/titles/{id}/poster"));
    // Anonymous: browsing is public, so is the picture.
    let image = stack.http.get(stack.url(route)).send().await.unwrap();
    assert_eq!(image.status(), 200, "the redirect leads to the image");
    assert_eq!(image.headers()["content-type"], "image/jpeg");
    assert!(image.url().path().starts_with("/images/") && image.url().path().ends_with("/poster.jpg"));

    // Not for a draft, and not a loop when a client sends the route back as the poster.
    let unpublish = ottr_proto::catalog::v1::SetVisibilityRequest {
        id: id.clone(),
        visibility: ottr_proto::catalog::v1::Visibility::Draft as i32,
    };
    stack.catalog.clone().set_visibility(crate::helpers::bearer(unpublish, &stack.editor)).await.unwrap();
    assert_eq!(stack.http.get(stack.url(route)).send().await.unwrap().status(), 404);
    let mut edited = title.clone();
    edited["title"] = "Renamed".into();
    let put = stack.authed(reqwest::Method::PUT, &format!("/api/v1/titles/{id}"), &stack.editor).json(&edited);
    let saved: Value = put.send().await.unwrap().json().await.unwrap();
    assert_eq!(saved["poster_url"], route, "still the frame, not a poster of its own");
    let redirect = stack.authed(reqwest::Method::GET, route, &stack.editor).send().await.unwrap();
    assert_eq!(redirect.status(), 200);
}
