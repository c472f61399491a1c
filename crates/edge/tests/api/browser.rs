//! The web app in a real headless Chromium (Debian's `chromium`, driven by
//! playwright-core from npm; both installed by scripts/setup.sh), against the whole stack.

use std::ffi::OsStr;

use sqlx::PgPool;

use crate::helpers::{node, spawn_stack};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_editor_uploads_publishes_and_plays_in_chromium_switching_audio_and_subtitles_and_playback_resumes(
    pool: PgPool,
) {
    let stack = spawn_stack(pool).await;
    let clip = std::env::temp_dir().join(format!("ottr-browser-{}.mp4", uuid::Uuid::new_v4().simple()));
    std::fs::write(&clip, stack.clip_with_tracks(12)).unwrap();
    let args: [&OsStr; 4] =
        [stack.edge.as_ref(), "editor@example.org".as_ref(), "a fine passphrase".as_ref(), clip.as_ref()];
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
