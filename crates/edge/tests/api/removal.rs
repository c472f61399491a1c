//! Deletes leave nothing behind: not the rows, not a profile's list or history entry, not
//! an object in storage, not a job still running.

use ottr_proto::{catalog::v1 as catalog_pb, media::v1 as media_pb};
use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;

use crate::{
    episodes::{publish, series_with_episodes},
    helpers::{Stack, bearer, json_of, spawn_stack, spawn_stack_adjusted},
};

/// Stored files that belong to `asset` (under `sources/`, `hls/` or `images/`), and
/// folders named after it.
fn leftovers(stack: &Stack, asset: &str) -> Vec<String> {
    stack.stored_files().into_iter().filter(|path| path.contains(asset)).collect()
}

async fn status_of(stack: &Stack, method: Method, path: &str, token: &str) -> u16 {
    stack.authed(method, path, token).send().await.unwrap().status().as_u16()
}

/// A profile of the caller's, with `title` on its list and a position in `episode`.
async fn watch(stack: &Stack, token: &str, title: &str, episode: &str) -> String {
    let profile = json_of(stack.authed(Method::POST, "/api/v1/profiles", token).json(&json!({"name": "Main"}))).await;
    let profile = profile["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/profiles/{profile}/watchlist/{title}");
    assert_eq!(status_of(stack, Method::PUT, &path, token).await, 204);
    let report = json!({"episode_id": episode, "position_secs": 1.0, "duration_secs": 4.0});
    let path = format!("/api/v1/profiles/{profile}/progress");
    let answer = stack.authed(Method::PUT, &path, token).json(&report).send().await.unwrap();
    assert!(answer.status().is_success(), "{}", answer.text().await.unwrap());
    profile
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn deleting_a_series_removes_its_episodes_every_profiles_entries_and_every_object(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let asset = stack.ready(stack.clip(2)).await;
    assert!(!leftovers(&stack, &asset.id).is_empty(), "the ladder is stored");
    let show = series_with_episodes(&stack, &asset.id).await;
    publish(&stack, &show.id, catalog_pb::Visibility::Published).await;
    let viewer = stack.viewer().await;
    let other = stack.register("other@example.org").await;
    let profiles = [
        (watch(&stack, &viewer, &show.id, &show.episodes[0]).await, viewer.clone()),
        (watch(&stack, &other, &show.id, &show.episodes[1]).await, other),
    ];

    let path = format!("/api/v1/titles/{}", show.id);
    assert_eq!(status_of(&stack, Method::DELETE, &path, &viewer).await, 403, "viewers delete nothing");
    assert_eq!(status_of(&stack, Method::DELETE, &path, &stack.editor).await, 204);
    assert_eq!(status_of(&stack, Method::DELETE, &path, &stack.editor).await, 404, "gone already");

    assert_eq!(status_of(&stack, Method::GET, &format!("/api/v1/series/{}", show.id), &viewer).await, 404);
    for episode in &show.episodes {
        let playback = format!("/api/v1/episodes/{episode}/playback");
        assert_eq!(status_of(&stack, Method::GET, &playback, &viewer).await, 404);
    }
    for (profile, token) in &profiles {
        let list = json_of(stack.authed(Method::GET, &format!("/api/v1/profiles/{profile}/watchlist"), token)).await;
        assert_eq!(list["titles"], json!([]), "the list entry went");
        let history = json_of(stack.authed(Method::GET, &format!("/api/v1/profiles/{profile}/history"), token)).await;
        assert_eq!(history["items"], json!([]), "the history went");
    }
    let titles = json_of(stack.authed(Method::GET, "/api/v1/titles", &viewer)).await;
    assert_eq!(titles["titles"], json!([]), "browse no longer lists it (the cached page was dropped)");
    let ask = bearer(media_pb::GetAssetRequest { id: asset.id.clone() }, &stack.editor);
    let gone = stack.media.clone().get_asset(ask).await;
    assert_eq!(gone.unwrap_err().code(), tonic::Code::NotFound, "the asset went with the episodes");
    assert_eq!(leftovers(&stack, &asset.id), Vec::<String>::new(), "nothing of the asset is left in storage");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn deleting_an_episode_keeps_the_series_and_the_others(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let asset = stack.ready(stack.clip(2)).await;
    let other_asset = stack.ready(stack.clip(3)).await;
    let show = series_with_episodes(&stack, &asset.id).await;
    publish(&stack, &show.id, catalog_pb::Visibility::Published).await;
    // The second episode plays another asset, which must stay.
    let fields = catalog_pb::EpisodeFields {
        number: 2,
        title: "S1E2".into(),
        asset_id: other_asset.id.clone(),
        ..Default::default()
    };
    let update = catalog_pb::UpdateEpisodeRequest { id: show.episodes[1].clone(), fields: Some(fields) };
    stack.catalog.clone().update_episode(bearer(update, &stack.editor)).await.unwrap();
    let viewer = stack.viewer().await;
    let profile = watch(&stack, &viewer, &show.id, &show.episodes[0]).await;

    let path = format!("/api/v1/episodes/{}", show.episodes[0]);
    assert_eq!(status_of(&stack, Method::DELETE, &path, &stack.editor).await, 204);
    let series = json_of(stack.authed(Method::GET, &format!("/api/v1/series/{}", show.id), &viewer)).await;
    let left: Vec<&str> = series["seasons"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["episodes"].as_array().unwrap())
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(left, vec!["S1E2", "S2E1"], "the series is read afresh, without the deleted episode");
    let history = json_of(stack.authed(Method::GET, &format!("/api/v1/profiles/{profile}/history"), &viewer)).await;
    assert_eq!(history["items"], json!([]));
    let list = json_of(stack.authed(Method::GET, &format!("/api/v1/profiles/{profile}/watchlist"), &viewer)).await;
    assert_eq!(list["titles"].as_array().unwrap().len(), 1, "the series stays on the list");
    assert!(leftovers(&stack, &asset.id).is_empty());
    assert!(!leftovers(&stack, &other_asset.id).is_empty(), "another episode's asset stays");
    let playback = format!("/api/v1/episodes/{}/playback", show.episodes[1]);
    assert_eq!(status_of(&stack, Method::GET, &playback, &viewer).await, 200);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_asset_two_episodes_share_stays_until_deleted_itself_and_then_their_positions_go(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let asset = stack.ready(stack.clip(2)).await;
    // S1E1 and S1E2 play the same asset, as a recap or a double episode may.
    let show = series_with_episodes(&stack, &asset.id).await;
    publish(&stack, &show.id, catalog_pb::Visibility::Published).await;
    let viewer = stack.viewer().await;
    let profile = watch(&stack, &viewer, &show.id, &show.episodes[1]).await;
    let second = format!("/api/v1/episodes/{}/playback", show.episodes[1]);

    let path = format!("/api/v1/episodes/{}", show.episodes[0]);
    assert_eq!(status_of(&stack, Method::DELETE, &path, &stack.editor).await, 204);
    assert!(!leftovers(&stack, &asset.id).is_empty(), "S1E2 still plays the asset: it stays");
    assert_eq!(status_of(&stack, Method::GET, &second, &viewer).await, 200);
    let history = format!("/api/v1/profiles/{profile}/history");
    let items = json_of(stack.authed(Method::GET, &history, &viewer)).await;
    assert_eq!(items["items"].as_array().unwrap().len(), 1, "the position in S1E2 stays: {items}");

    // Deleting the asset itself: S1E2 stays with nothing to play, and positions in it go.
    let path = format!("/api/v1/assets/{}", asset.id);
    assert_eq!(status_of(&stack, Method::DELETE, &path, &stack.editor).await, 204);
    assert_eq!(leftovers(&stack, &asset.id), Vec::<String>::new(), "nothing of the asset is left in storage");
    assert_eq!(status_of(&stack, Method::GET, &second, &viewer).await, 404, "nothing to play");
    let series = json_of(stack.authed(Method::GET, &format!("/api/v1/series/{}", show.id), &viewer)).await;
    let episodes: Vec<&serde_json::Value> =
        series["seasons"].as_array().unwrap().iter().flat_map(|s| s["episodes"].as_array().unwrap()).collect();
    assert_eq!(episodes.len(), 2, "S1E2 and S2E1 stay: {series}");
    assert!(episodes.iter().all(|e| e["asset_id"] == ""), "neither names the gone asset: {series}");
    let items = json_of(stack.authed(Method::GET, &history, &viewer)).await;
    assert_eq!(items["items"], json!([]), "the position in S1E2 went with its asset");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn deleting_an_asset_mid_transcode_cancels_its_job_and_leaves_nothing_in_storage(pool: PgPool) {
    let stack = spawn_stack_adjusted(pool, |_| {}, |media| media.worker.heartbeat_secs = 1).await;
    let asset = stack.upload(stack.hd_clip(40)).await;
    let fields = catalog_pb::TitleFields {
        kind: catalog_pb::Kind::Movie as i32,
        slug: "doomed".into(),
        title: "Doomed".into(),
        asset_id: asset.id.clone(),
        ..Default::default()
    };
    let create = bearer(catalog_pb::CreateTitleRequest { fields: Some(fields) }, &stack.editor);
    let movie = stack.catalog.clone().create_title(create).await.unwrap().into_inner();
    let mut events = stack
        .media
        .clone()
        .watch_job(bearer(media_pb::WatchJobRequest { job_id: asset.job_id.clone() }, &stack.editor))
        .await
        .unwrap()
        .into_inner();
    // Wait until the worker is writing the ladder.
    let mut running = false;
    while let Some(event) = events.message().await.unwrap() {
        if event.phase == media_pb::Phase::Transcoding as i32 && event.percent > 0.0 {
            running = true;
            break;
        }
    }
    assert!(running, "the transcode was caught running");

    let path = format!("/api/v1/assets/{}", asset.id);
    assert_eq!(status_of(&stack, Method::DELETE, &path, &stack.editor).await, 204);
    let mut last = None;
    while let Some(event) = events.message().await.unwrap() {
        last = Some(event.phase);
    }
    assert_eq!(last, Some(media_pb::Phase::Cancelled as i32), "watchers learn the job ended");
    let title = json_of(stack.authed(Method::GET, &format!("/api/v1/titles/{}", movie.id), &stack.editor)).await;
    assert_eq!(title["asset_id"], "", "the movie stays, with nothing to play");
    assert_eq!(status_of(&stack, Method::DELETE, &path, &stack.editor).await, 404);

    // The worker stops at its next heartbeat and removes what it wrote since the delete.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !leftovers(&stack, &asset.id).is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(leftovers(&stack, &asset.id), Vec::<String>::new(), "nothing of the asset is left in storage");
}
