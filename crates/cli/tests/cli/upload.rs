//! `ottr upload` against a real `ottr up` (PostgreSQL, Redis, ffmpeg): an upload stopped
//! midway resumes from the edge's offset on the next run and its draft title plays the
//! ready asset; a connection cut mid-PATCH is retried from what the edge kept; a file media
//! refuses and a transcode that fails both end the command with the edge's code.

use std::{
    path::{Path, PathBuf},
    process::{Output, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use ottr_testkit::{Clip, process::Process};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use crate::helpers::{ScratchDatabase, ottr};

const EMAIL: &str = "editor@example.org";
const PASSWORD: &str = "an editor's long passphrase";

/// `ottr up` on a database of its own, with one editor, and a folder for the test's files
/// (the clip, the command's state file under `state/`).
struct Platform {
    // Declared first so it stops before the database is dropped.
    _up: Process,
    db: ScratchDatabase,
    dir: PathBuf,
    edge: String,
}

impl Platform {
    fn start(env: &[(&str, String)]) -> Self {
        let db = ScratchDatabase::new();
        let mut create = ottr(&db)
            .args(["user", "create", "--email", EMAIL, "--role", "editor", "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut create.stdin.take().unwrap(), format!("{PASSWORD}\n").as_bytes()).unwrap();
        let created = create.wait_with_output().unwrap();
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));

        let dir = std::env::temp_dir().join(format!("{}-upload-test", db.name));
        std::fs::create_dir_all(&dir).unwrap();
        let command = ottr(&db);
        let mut vars: Vec<(String, String)> =
            command.get_envs().filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v?.to_str()?.to_owned()))).collect();
        vars.extend(env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        let up = Process::start(
            env!("CARGO_BIN_EXE_ottr").as_ref(),
            &["up"],
            &vars,
            &dir.join("up.log"),
            Duration::from_secs(120),
        )
        .unwrap();
        let edge = format!("http://127.0.0.1:{}", up.port("edge").unwrap());
        Self { _up: up, db, dir, edge }
    }

    /// A 3-second clip with sound, made by ffmpeg.
    fn clip(&self) -> PathBuf {
        Clip::testsrc("640x360", 25, 3).with_audio(true).yuv420p().make(&self.dir.join("clip.mp4")).unwrap()
    }

    /// Runs `ottr upload FILE ARGS… --edge <edge> --email <editor>`, the password from
    /// `OTTR_PASSWORD`, its state file in this test's folder.
    async fn upload(&self, file: &Path, edge: &str, args: &[&str]) -> Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_ottr"))
            .arg("upload")
            .arg(file)
            .args(["--edge", edge, "--email", EMAIL])
            .args(args)
            .env("XDG_STATE_HOME", self.dir.join("state"))
            .env("OTTR_PASSWORD", PASSWORD)
            .env_remove("OTTR_TOKEN")
            .env_remove("OTTR_EDGE_URL")
            .output()
            .await
            .unwrap()
    }

    /// What the command remembers: `{fingerprint: {url, length, expires_at, title}}`.
    fn remembered(&self) -> serde_json::Map<String, serde_json::Value> {
        match std::fs::read(self.dir.join("state/ottr/uploads.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap(),
            Err(_) => serde_json::Map::new(),
        }
    }

    async fn access_token(&self) -> String {
        let session: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/login", self.edge))
            .json(&serde_json::json!({ "email": EMAIL, "password": PASSWORD }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        session["access_token"].as_str().unwrap().to_owned()
    }

    /// The file media stored as the asset's source.
    fn stored_source(&self, asset: &str) -> Vec<u8> {
        let folder = std::env::temp_dir().join(format!("{}-objects", self.db.name)).join("sources").join(asset);
        let file = std::fs::read_dir(&folder).unwrap().next().expect("media stored the source").unwrap();
        std::fs::read(file.path()).unwrap()
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The asset id in `uploaded clip.mp4: asset <id>, job <id>`.
fn asset_of(stdout: &str) -> String {
    let line =
        stdout.lines().find(|l| l.starts_with("uploaded ")).unwrap_or_else(|| panic!("no upload line: {stdout}"));
    line.split("asset ").nth(1).unwrap().split(',').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_stopped_midway_resumes_from_the_edges_offset_and_its_draft_title_plays_the_ready_asset() {
    let platform = Platform::start(&[]);
    let clip = platform.clip();
    let length = std::fs::metadata(&clip).unwrap().len();
    assert!(length > 3 * 32 * 1024, "the clip spans several requests: {length} bytes");
    let small = ["--title", "Test Pattern: Night", "--chunk-bytes", "32768"];

    let stopped = platform.upload(&clip, &platform.edge, &[&small[..], &["--stop-after-chunks", "1"]].concat()).await;
    assert_eq!(stopped.status.code(), Some(130), "{}", text(&stopped.stderr));
    assert!(text(&stopped.stderr).contains("run the same command again to resume"), "{}", text(&stopped.stderr));
    assert!(text(&stopped.stdout).contains("title \"Test Pattern: Night\" created as a draft (test-pattern-night)"));
    let remembered = platform.remembered();
    assert_eq!(remembered.len(), 1, "{remembered:?}");
    let entry = remembered.values().next().unwrap().clone();
    assert_eq!(entry["length"], length);
    let title_id = entry["title"]["id"].as_str().unwrap().to_owned();

    let token = platform.access_token().await;
    let http = reqwest::Client::new();
    let head = http
        .head(entry["url"].as_str().unwrap())
        .bearer_auth(&token)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(head.headers()["upload-offset"], "32768", "the edge kept exactly one request's bytes");

    let resumed = platform.upload(&clip, &platform.edge, &small).await;
    let stdout = text(&resumed.stdout);
    assert!(resumed.status.success(), "{stdout}\n{}", text(&resumed.stderr));
    assert!(stdout.contains("resuming clip.mp4 at 32.00 KiB"), "{stdout}");
    assert!(!stdout.contains("created as a draft"), "the title of the first run is reused: {stdout}");
    let asset = asset_of(&stdout);
    assert!(stdout.contains(&format!("ready: asset {asset}")), "{stdout}");
    assert!(platform.remembered().is_empty(), "a finished upload is forgotten");
    assert_eq!(platform.stored_source(&asset), std::fs::read(&clip).unwrap(), "media has the file, byte for byte");

    let title = get_json(&http, &token, &format!("{}/api/v1/titles/{title_id}", platform.edge)).await;
    assert_eq!(title["asset_id"], asset.as_str());
    assert_eq!((title["kind"].as_str(), title["visibility"].as_str()), (Some("movie"), Some("draft")));
    assert_eq!(title["title"], "Test Pattern: Night");
    let asset_json = get_json(&http, &token, &format!("{}/api/v1/assets/{asset}", platform.edge)).await;
    assert_eq!(asset_json["state"], "ready", "{asset_json}");
}

/// The JSON body of a signed-in GET.
async fn get_json(http: &reqwest::Client, token: &str, url: &str) -> serde_json::Value {
    http.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

/// What the relay in front of the edge does to the traffic toward it.
#[derive(Clone, Default)]
struct Faults {
    /// Cut the first connection that carries more than this many bytes, mid-request, as a
    /// dropped link would; later connections pass untouched.
    cut_after: Option<usize>,
    /// Set once the cut happened.
    cut: Arc<AtomicBool>,
    /// While set, pass at most 16 KiB per 50 ms (about 320 KiB/s), so an upload lasts long
    /// enough to be interrupted.
    slow: Arc<AtomicBool>,
}

/// Relays connections from `listener` to the edge on `edge_port`, with `faults`.
fn relay(listener: TcpListener, edge_port: u16, faults: Faults) {
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(pipe(client, edge_port, faults.clone()));
        }
    });
}

async fn pipe(mut client: TcpStream, edge_port: u16, faults: Faults) {
    let Ok(mut edge) = TcpStream::connect(("127.0.0.1", edge_port)).await else { return };
    let (mut from_client, mut to_client) = client.split();
    let (mut from_edge, mut to_edge) = edge.split();
    let toward_edge = async {
        let (mut sent, mut buf) = (0, vec![0; 16 * 1024]);
        loop {
            let n = from_client.read(&mut buf).await?;
            if n == 0 {
                to_edge.shutdown().await?;
                return std::future::pending().await;
            }
            if let Some(limit) = faults.cut_after
                && sent + n > limit
                && !faults.cut.swap(true, Ordering::SeqCst)
            {
                // Part of this request, then both sockets close.
                to_edge.write_all(&buf[..limit - sent]).await?;
                return std::io::Result::Ok(());
            }
            if faults.slow.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            to_edge.write_all(&buf[..n]).await?;
            sent += n;
        }
    };
    tokio::select! {
        _ = toward_edge => {}
        _ = tokio::io::copy(&mut from_edge, &mut to_client) => {}
    }
}

/// `ottr up` behind a relay with `faults`; the relay's port is the edge's public URL, so
/// the upload's Location leads through it too. Returns the platform and the relay's URL.
async fn relayed_platform(faults: Faults) -> (Platform, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relayed = format!("http://{}", listener.local_addr().unwrap());
    let platform = Platform::start(&[("OTTR__EDGE__PUBLIC_URL", relayed.clone())]);
    let edge_port: u16 = platform.edge.rsplit_once(':').unwrap().1.parse().unwrap();
    relay(listener, edge_port, faults);
    (platform, relayed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_request_is_resumed_from_what_the_edge_kept() {
    let faults = Faults { cut_after: Some(40_000), ..Faults::default() };
    let (platform, relayed) = relayed_platform(faults.clone()).await;
    let clip = platform.clip();

    let output = platform.upload(&clip, &relayed, &["--chunk-bytes", "65536", "--no-wait"]).await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(faults.cut.load(Ordering::SeqCst), "the relay cut a connection");
    assert!(stderr.contains("retrying in"), "the lost request was retried: {stderr}");
    let asset = asset_of(&stdout);
    assert!(!stdout.contains("ready:"), "--no-wait does not follow the transcode: {stdout}");
    assert_eq!(platform.stored_source(&asset), std::fs::read(&clip).unwrap(), "no byte lost or doubled");
    assert!(platform.remembered().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_upload_exits_130_and_the_next_run_resumes_where_the_edge_stopped() {
    let faults = Faults::default();
    faults.slow.store(true, Ordering::SeqCst);
    let (platform, relayed) = relayed_platform(faults.clone()).await;
    let clip = platform.clip();
    let length = std::fs::metadata(&clip).unwrap().len();
    let running = tokio::process::Command::new(env!("CARGO_BIN_EXE_ottr"))
        .arg("upload")
        .arg(&clip)
        .args(["--edge", &relayed, "--email", EMAIL, "--chunk-bytes", "65536", "--no-wait"])
        .env("XDG_STATE_HOME", platform.dir.join("state"))
        .env("OTTR_PASSWORD", PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    // Once the edge holds some bytes (the relay lets about 320 KiB/s through), Ctrl-C.
    let token = platform.access_token().await;
    let http = reqwest::Client::new();
    let mut held = 0;
    for _ in 0..200 {
        if let Some(entry) = platform.remembered().values().next() {
            let head = http
                .head(entry["url"].as_str().unwrap())
                .bearer_auth(&token)
                .header("tus-resumable", "1.0.0")
                .send()
                .await
                .unwrap();
            held = head.headers()["upload-offset"].to_str().unwrap().parse::<u64>().unwrap();
            if held > 0 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(held > 0 && held < length, "interrupted midway: {held} of {length}");
    let pid = running.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let interrupted = running.wait_with_output().await.unwrap();
    let stderr = text(&interrupted.stderr);
    assert_eq!(interrupted.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted; run the same command again to resume"), "{stderr}");
    assert_eq!(platform.remembered().len(), 1, "the upload is remembered");

    faults.slow.store(false, Ordering::SeqCst);
    let resumed = platform.upload(&clip, &relayed, &["--chunk-bytes", "65536", "--no-wait"]).await;
    let stdout = text(&resumed.stdout);
    assert!(resumed.status.success(), "{stdout}\n{}", text(&resumed.stderr));
    assert!(stdout.contains("resuming clip.mp4 at"), "{stdout}");
    assert!(!stdout.contains("resuming clip.mp4 at 0 B"), "{stdout}");
    assert_eq!(platform.stored_source(&asset_of(&stdout)), std::fs::read(&clip).unwrap());
    assert!(platform.remembered().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_media_refuses_and_a_failed_transcode_exit_non_zero_with_the_code_and_message() {
    // Every attempt is over its cap at once, and there is only one.
    let platform = Platform::start(&[
        ("OTTR__MEDIA__WORKER__HARD_CAP_SECS", "0".into()),
        ("OTTR__MEDIA__WORKER__MAX_ATTEMPTS", "1".into()),
    ]);
    let not_video = platform.dir.join("notes.mp4");
    std::fs::write(&not_video, "not a video, only words\n".repeat(2000)).unwrap();
    let refused = platform.upload(&not_video, &platform.edge, &[]).await;
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("HTTP 4"), "the edge's refusal, with its code: {stderr}");
    assert!(platform.remembered().is_empty(), "a refused upload is gone from the edge, and forgotten: {stderr}");

    let clip = platform.clip();
    let failed = platform.upload(&clip, &platform.edge, &[]).await;
    let stderr = text(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the transcode failed:") && stderr.contains("(transcode_failed)"), "{stderr}");
    assert!(stderr.contains("cap"), "the job's message says why: {stderr}");
}
