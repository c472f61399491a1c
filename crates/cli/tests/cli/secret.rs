//! `ottr serve edge` refuses a playback secret anyone could know; `ottr up` (one process)
//! is the only command that makes up a random one.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// Runs `ottr serve edge` with this secret; its exit status and stderr, or None if it was
/// still serving after `patience` (then it is killed).
fn serve_edge(secret: Option<&str>, patience: Duration) -> Option<(bool, String)> {
    let scratch = std::env::temp_dir().join(format!("ottr-cli-secret-{}", uuid::Uuid::new_v4().simple()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_ottr"));
    command
        .args(["serve", "edge"])
        .env("OTTR__EDGE__LISTEN__PORT", "0")
        .env("OTTR__MEDIA__STORAGE__LOCAL_ROOT", scratch.join("objects"))
        .env("OTTR__EDGE__UPLOAD_DIR", scratch.join("uploads"))
        .env_remove("OTTR__EDGE__PLAYBACK__SECRET")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(secret) = secret {
        command.env("OTTR__EDGE__PLAYBACK__SECRET", secret);
    }
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    let outcome = loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            break Some((status.success(), stderr));
        }
        if started.elapsed() > patience {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = std::fs::remove_dir_all(scratch);
    outcome
}

#[test]
fn the_edge_refuses_to_start_with_a_placeholder_a_short_or_no_playback_secret() {
    for (secret, why) in [
        (Some("change-me-to-a-long-random-secret"), "placeholder"),
        (Some("only-twenty-five-bytes-xx"), "at least 32"),
        (None, "no playback secret"),
    ] {
        let (succeeded, stderr) = serve_edge(secret, Duration::from_secs(20)).expect("the edge started serving");
        assert!(!succeeded, "{secret:?}: {stderr}");
        assert!(stderr.contains(why), "{secret:?}: {stderr}");
    }
}

#[test]
fn the_edge_starts_with_a_long_random_secret() {
    assert!(
        serve_edge(Some("3f1c0a9e5b7d2f4a6c8e0b1d3f5a7c9e2b4d6f8a"), Duration::from_secs(3)).is_none(),
        "it should still be serving"
    );
}
