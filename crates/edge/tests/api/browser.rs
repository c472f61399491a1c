//! The web app in a real headless Chromium (Debian's `chromium`, driven by
//! playwright-core from npm; both installed by scripts/setup.sh), against the whole stack.

use std::ffi::OsStr;

use sqlx::PgPool;

use ottr_proto::catalog::v1 as catalog_pb;

use crate::{
    episodes::{publish, series_with_episodes},
    helpers::{node, spawn_stack, spawn_stack_adjusted},
};

/// Where the browser tests leave their screenshots: the test run's artefacts.
fn artifacts(test: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser").join(test)
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_editor_uploads_publishes_and_plays_in_chromium_switching_audio_and_subtitles_and_playback_resumes(
    pool: PgPool,
) {
    let stack = spawn_stack(pool).await;
    let clip = std::env::temp_dir().join(format!("ottr-browser-{}.mp4", uuid::Uuid::new_v4().simple()));
    std::fs::write(&clip, stack.clip_with_tracks(12)).unwrap();
    let shots = artifacts("e2e");
    let args: [&OsStr; 5] = [
        stack.edge.as_ref(),
        "editor@example.org".as_ref(),
        "a fine passphrase".as_ref(),
        clip.as_ref(),
        shots.as_ref(),
    ];
    let (status, log) = node("tests/browser/e2e.mjs", args).await;
    let _ = std::fs::remove_file(&clip);
    assert!(status.success(), "{log}");
    assert!(log.contains("uploaded with tus-js-client, resumed after a cut connection"), "{log}");
    assert!(log.contains("resumed from"), "{log}");
    assert!(log.contains("subtitle cue shown: Hello from ottr"), "{log}");
    assert!(log.contains("audio choice remembered"), "{log}");
    assert!(log.contains("a visitor lands on browse and is asked to sign in to play"), "{log}");
    println!("{log}");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_viewer_plays_an_episode_goes_on_to_the_next_and_continue_watching_resumes_it(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let asset = stack.ready(stack.clip(4)).await;
    let show = series_with_episodes(&stack, &asset.id).await;
    publish(&stack, &show.id, catalog_pb::Visibility::Published).await;
    stack.viewer().await;
    let shots = artifacts("episodes");
    let args: [&OsStr; 5] = [
        stack.edge.as_ref(),
        "viewer@example.org".as_ref(),
        "a fine passphrase".as_ref(),
        "night-shift".as_ref(),
        shots.as_ref(),
    ];
    let (status, log) = node("tests/browser/episodes.mjs", args).await;
    assert!(status.success(), "{log}");
    assert!(log.contains("at the end: Up next: S1 E2"), "{log}");
    assert!(log.contains("went on to the next episode"), "{log}");
    assert!(log.contains("continue watching resumed the episode"), "{log}");
    assert!(log.contains("browse shows a featured title and 1 genre row(s) with poster frames"), "{log}");
    assert!(log.contains("hovering the seek bar previews the storyboard"), "{log}");
    for shot in ["browse", "series-page", "seek-preview", "up-next", "episode-2", "continue-watching"] {
        assert!(shots.join(format!("{shot}.png")).is_file(), "{shot}.png was saved");
    }
    println!("{log}\nscreenshots: {}", shots.display());
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_editor_requeues_cancels_and_deletes_assets_from_the_studio_in_chromium(pool: PgPool) {
    // The studio registers a webhook at a public address: no sender here may try to reach it.
    let stack = spawn_stack_adjusted(pool, |_| {}, |media| media.webhooks.send = false).await;
    let ready = stack.ready(stack.clip(2)).await;
    // Long enough to be still transcoding when the studio cancels its requeued job.
    let cancelled = stack.upload(stack.hd_clip(40)).await;
    let cancel =
        stack.authed(reqwest::Method::POST, &format!("/api/v1/jobs/{}/cancel", cancelled.job_id), &stack.editor);
    assert_eq!(cancel.send().await.unwrap().status(), 200);
    crate::analytics::watched_movie(&stack, "watched", "Watched Film").await;
    let shots = artifacts("studio");
    let args: [&OsStr; 7] = [
        stack.edge.as_ref(),
        "editor@example.org".as_ref(),
        "a fine passphrase".as_ref(),
        ready.id.as_ref(),
        cancelled.id.as_ref(),
        "Watched Film".as_ref(),
        shots.as_ref(),
    ];
    let (status, log) = node("tests/browser/studio.mjs", args).await;
    assert!(status.success(), "{log}");
    assert!(log.contains("the filter shows the cancelled asset alone"), "{log}");
    assert!(log.contains("requeued"), "{log}");
    assert!(log.contains("cancelled from the studio"), "{log}");
    assert!(log.contains("deleted from the studio"), "{log}");
    assert!(
        log.contains("most watched: Watched Film 0.00 1 1 0"),
        "the title, its hours, plays, viewers, completions: {log}"
    );
    assert!(log.contains("viewing chart: 30 days, 1.5 s watched today"), "today's bar holds the 1.5 s watched: {log}");
    assert!(log.contains("one title: 1 plays · 1 viewers"), "{log}");
    assert!(log.contains("refused: webhook_url_refused"), "{log}");
    assert!(log.contains("webhook added, secret shown: true"), "{log}");
    assert!(log.contains("webhook deleted"), "{log}");
    let left: Vec<String> = stack.stored_files().into_iter().filter(|f| f.contains(&ready.id)).collect();
    assert!(left.is_empty(), "nothing of the deleted asset is stored: {left:?}");
    for shot in ["studio-assets", "studio-after-delete", "studio-viewing", "studio-webhooks"] {
        assert!(shots.join(format!("{shot}.png")).is_file(), "{shot}.png was saved");
    }
    println!("{log}\nscreenshots: {}", shots.display());
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_kids_profile_does_not_see_a_mature_title_in_chromium(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    for (slug, title, rating) in [("cartoon", "Cartoon", "G"), ("thriller", "Thriller", "R")] {
        let fields = catalog_pb::TitleFields {
            kind: catalog_pb::Kind::Movie as i32,
            slug: slug.into(),
            title: title.into(),
            maturity_rating: rating.into(),
            ..Default::default()
        };
        let create = crate::helpers::bearer(catalog_pb::CreateTitleRequest { fields: Some(fields) }, &stack.editor);
        let created = stack.catalog.clone().create_title(create).await.unwrap().into_inner();
        publish(&stack, &created.id, catalog_pb::Visibility::Published).await;
    }
    stack.viewer().await;
    let shots = artifacts("kids");
    let args: [&OsStr; 4] =
        [stack.edge.as_ref(), "viewer@example.org".as_ref(), "a fine passphrase".as_ref(), shots.as_ref()];
    let (status, log) = node("tests/browser/kids.mjs", args).await;
    assert!(status.success(), "{log}");
    assert!(log.contains("kids profile browses: Cartoon\n"), "{log}");
    assert!(log.contains("the R-rated title is neither found nor opened on the kids profile"), "{log}");
    assert!(log.contains("back on the grown-up profile"), "{log}");
    for shot in ["kids-browse", "kids-mature-title"] {
        assert!(shots.join(format!("{shot}.png")).is_file(), "{shot}.png was saved");
    }
    println!("{log}\nscreenshots: {}", shots.display());
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_viewer_signs_a_tv_in_from_the_activation_link_in_chromium(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    stack.viewer().await;
    let started = stack.http.post(stack.url("/api/v1/device/code")).send().await.unwrap();
    assert_eq!(started.status(), 200);
    let device: serde_json::Value = started.json().await.unwrap();
    let code = device["user_code"].as_str().unwrap().to_owned();
    let shots = artifacts("device");
    let args: [&OsStr; 5] = [
        stack.edge.as_ref(),
        "viewer@example.org".as_ref(),
        "a fine passphrase".as_ref(),
        code.as_ref(),
        shots.as_ref(),
    ];
    let (status, log) = node("tests/browser/device.mjs", args).await;
    assert!(status.success(), "{log}");
    assert!(log.contains("code filled in") && log.contains("approved the TV"), "{log}");
    let poll = stack
        .http
        .post(stack.url("/api/v1/device/token"))
        .json(&serde_json::json!({"device_code": device["device_code"]}));
    let session: serde_json::Value = poll.send().await.unwrap().json().await.unwrap();
    assert_eq!(session["user"]["email"], "viewer@example.org", "the TV got its session: {session}");
    println!("{log}\nscreenshots: {}", shots.display());
}
