//! The web app in a real headless Chromium (Debian's `chromium`, driven by
//! playwright-core from npm; both installed by scripts/setup.sh), against the whole stack.

use sqlx::PgPool;

use crate::helpers::spawn_stack;

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_editor_uploads_publishes_and_plays_in_chromium_switching_audio_and_subtitles_and_playback_resumes(
    pool: PgPool,
) {
    let stack = spawn_stack(pool).await;
    let clip = std::env::temp_dir().join(format!("ottr-browser-{}.mp4", uuid::Uuid::new_v4().simple()));
    std::fs::write(&clip, stack.clip_with_tracks(12)).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser/e2e.mjs");
    // Async: the stack answering the browser runs on this test's runtime.
    let out = tokio::process::Command::new("node")
        .arg(script)
        .args([&stack.edge, "editor@example.org", "a fine passphrase"])
        .arg(&clip)
        .output()
        .await
        .expect("node is installed by scripts/setup.sh");
    let _ = std::fs::remove_file(&clip);
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{log}");
    assert!(log.contains("resumed from"), "{log}");
    assert!(log.contains("subtitle cue shown: Hello from ottr"), "{log}");
    assert!(log.contains("audio choice remembered"), "{log}");
    println!("{log}");
}
