//! REST/JSON: sessions, the catalog, errors with stable codes, the OpenAPI document.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{json_of, spawn_stack};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_viewer_registers_signs_in_and_reads_the_catalog_over_rest(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let token = stack.viewer().await;
    let me: Value =
        stack.http.get(stack.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["email"], "viewer@example.org");
    assert_eq!(me["roles"], json!(["viewer"]));

    let login = stack
        .http
        .post(stack.url("/api/v1/auth/login"))
        .json(&json!({"email": "viewer@example.org", "password": "a fine passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let session: Value = login.json().await.unwrap();
    let refreshed = stack
        .http
        .post(stack.url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": session["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);

    let id = stack.playable_movie().await;
    let page: Value =
        stack.http.get(stack.url("/api/v1/titles?page_size=10")).send().await.unwrap().json().await.unwrap();
    assert_eq!(page["titles"][0]["id"], id.as_str());
    assert_eq!(page["titles"][0]["kind"], "movie");
    assert_eq!(page["titles"][0]["visibility"], "published");
    let found: Value = stack.http.get(stack.url("/api/v1/search?q=patt")).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["titles"][0]["slug"], "test-pattern");
    let by_slug: Value =
        stack.http.get(stack.url("/api/v1/titles/test-pattern")).send().await.unwrap().json().await.unwrap();
    assert_eq!(by_slug["id"], id.as_str());
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn errors_are_code_and_message_with_the_grpc_codes_and_http_statuses(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    stack.viewer().await;
    let post = |path: &str, body: Value| stack.http.post(stack.url(path)).json(&body);
    let cases = [
        (
            post("/api/v1/auth/login", json!({"email": "viewer@example.org", "password": "wrong password"})),
            401,
            "invalid_credentials",
        ),
        (
            post("/api/v1/auth/register", json!({"email": "viewer@example.org", "password": "a fine passphrase"})),
            409,
            "email_taken",
        ),
        (
            post("/api/v1/auth/register", json!({"email": "new@example.org", "password": "short"})),
            400,
            "invalid_password",
        ),
        (stack.http.get(stack.url("/api/v1/me")), 401, "unauthenticated"),
        (stack.http.get(stack.url("/api/v1/me")).bearer_auth("not.a.jwt"), 401, "token_invalid"),
        (stack.http.get(stack.url("/api/v1/titles/no-such-title")), 404, "not_found"),
        (stack.http.get(stack.url("/api/v1/titles?kind=opera")), 400, "invalid_argument"),
        (stack.http.get(stack.url("/api/v1/search?q=%26%7C")), 400, "invalid_argument"),
    ];
    for (request, status, code) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{code}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], code);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn the_openapi_document_describes_every_route_and_the_error_body(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let doc: Value = stack.http.get(stack.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    // Every path and method the routers name, read from their source, so a route or a
    // method added without its `#[utoipa::path]` fails here.
    let sources = [include_str!("../../src/rest/mod.rs"), include_str!("../../src/rest/uploads/mod.rs")];
    let routed: Vec<(String, String)> =
        sources.iter().flat_map(|source| routes(source)).filter(|(path, _)| path != "/api/v1/openapi.json").collect();
    assert!(routed.len() > 50, "the routers were read: {routed:?}");
    let missing: Vec<_> = routed.iter().filter(|(path, method)| !doc["paths"][path][method].is_object()).collect();
    assert!(missing.is_empty(), "not in the OpenAPI document: {missing:?}");
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(stack.http.get(stack.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(stack.http.get(stack.url("/readyz")).send().await.unwrap().status(), 200);
    let metrics = stack.http.get(stack.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("ottr_http_requests_total{method=\"GET\",route=\"/api/v1/openapi.json\",status=\"200\"} 1"),
        "{metrics}"
    );
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_profile_keeps_a_watchlist_and_resumes_where_it_stopped(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let id = stack.playable_movie().await;
    let token = stack.viewer().await;
    let profile = json_of(stack.authed(Method::POST, "/api/v1/profiles", &token).json(&json!({"name": "Ada"}))).await;
    let pid = profile["id"].as_str().unwrap();
    let profiles = format!("/api/v1/profiles/{pid}");
    for _ in 0..2 {
        let added = stack.authed(Method::PUT, &format!("{profiles}/watchlist/{id}"), &token).send().await.unwrap();
        assert_eq!(added.status(), 204);
    }
    let list = json_of(stack.authed(Method::GET, &format!("{profiles}/watchlist"), &token)).await;
    assert_eq!(list["titles"].as_array().unwrap().len(), 1);

    let report = json!({"title_id": id, "position_secs": 3.0, "duration_secs": 6.0});
    let saved = stack.authed(Method::PUT, &format!("{profiles}/progress"), &token).json(&report).send().await.unwrap();
    assert_eq!(saved.status(), 200);
    let resume = json_of(stack.authed(Method::GET, &format!("{profiles}/continue-watching"), &token)).await;
    assert_eq!(resume["items"][0]["title"]["id"], id.as_str());
    assert_eq!(resume["items"][0]["position_secs"], 3.0);

    let removed = stack.authed(Method::DELETE, &format!("{profiles}/watchlist/{id}"), &token).send().await.unwrap();
    assert_eq!(removed.status(), 204);
    let someone_else = stack.authed(Method::GET, &format!("{profiles}/history"), &stack.editor).send().await.unwrap();
    assert_eq!(someone_else.status(), 404, "another account's profile");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_editor_adds_and_removes_a_subtitle_file_on_a_ready_asset_over_rest(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let asset = stack.ready(stack.clip(2)).await;
    let editor = format!("Bearer {}", stack.editor);
    let asset_url = stack.url(&format!("/api/v1/assets/{}", asset.id));
    let found = json_of(stack.http.get(&asset_url).header("authorization", &editor)).await;
    assert_eq!(found["state"], "ready");
    assert_eq!(found["audio_tracks"], json!([]), "the clip is silent");
    assert!(found["renditions"].as_array().is_some_and(|r| !r.is_empty()));

    let subtitles = stack.url(&format!("/api/v1/assets/{}/subtitles?language=fr&kind=captions", asset.id));
    let send = |body: Vec<u8>, token: String| {
        stack.http.post(&subtitles).header("authorization", token).header("content-type", "text/vtt").body(body).send()
    };
    let bad = send(b"WEBVTT\n\n00:01.000 --> 00:00.500\nbackwards\n".to_vec(), editor.clone()).await.unwrap();
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["code"], "invalid_subtitles");
    assert!(body["message"].as_str().unwrap().contains("line 3"), "{body}");

    let added = send(b"1\n00:00:00,000 --> 00:00:01,000\nBonjour\n".to_vec(), editor.clone()).await.unwrap();
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.unwrap();
    let track = &added["subtitle_tracks"][0];
    assert_eq!(
        (track["language"].as_str(), track["label"].as_str(), track["kind"].as_str()),
        (Some("fr"), Some("Français"), Some("captions"))
    );

    let viewer = format!("Bearer {}", stack.viewer().await);
    let denied = send(b"1\n00:00:00,000 --> 00:00:01,000\nx\n".to_vec(), viewer).await.unwrap();
    assert_eq!(denied.status(), 403);
    let huge = send(vec![b'a'; 3 * 1024 * 1024], editor.clone()).await.unwrap();
    assert_eq!(huge.status(), 413);
    assert_eq!(huge.json::<Value>().await.unwrap()["code"], "body_too_large");

    let track_url = stack.url(&format!("/api/v1/assets/{}/subtitles/{}", asset.id, track["id"].as_str().unwrap()));
    let removed = stack.http.delete(&track_url).header("authorization", &editor).send().await.unwrap();
    assert_eq!(removed.status(), 200);
    assert_eq!(removed.json::<Value>().await.unwrap()["subtitle_tracks"], json!([]));
    let again = stack.http.delete(&track_url).header("authorization", &editor).send().await.unwrap();
    assert_eq!(again.status(), 404);
}

/// The (path, method) pairs of each `.route("/api/v1/…", get(…).post(…))` in a router's
/// source: the method routers named inside the call's own parentheses.
fn routes(source: &str) -> Vec<(String, String)> {
    const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];
    let mut found = Vec::new();
    for (start, _) in source.match_indices(".route(") {
        let call = &source[start + ".route(".len()..];
        let mut depth = 1;
        let end = call
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map_or(call.len(), |(at, _)| at);
        let call = &call[..end];
        let Some(path) = call.split('"').nth(1).filter(|path| path.starts_with("/api/v1/")) else { continue };
        for (at, _) in call.match_indices('(') {
            let word_start = call[..at].rfind(|c: char| !c.is_ascii_alphanumeric() && c != '_').map_or(0, |i| i + 1);
            let word = &call[word_start..at];
            // A method router (`get(`, `.post(`), not a handler path (`tus::patch`).
            let called = word_start == 0 || !call[..word_start].ends_with("::");
            if METHODS.contains(&word) && called {
                found.push((path.to_owned(), word.to_owned()));
            }
        }
    }
    found
}
