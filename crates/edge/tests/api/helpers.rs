//! Every service on port 0 in this process, and the edge in front of them.

use std::{path::PathBuf, sync::Arc};

use ottr_edge::EdgeSettings;
use ottr_media::MediaSettings;
use ottr_proto::{
    auth::v1 as auth_pb,
    catalog::v1::{self as catalog_pb, catalog_service_client::CatalogServiceClient},
    media::v1::{self as media_pb, media_service_client::MediaServiceClient},
};
use ottr_runtime::{
    config::{ListenSettings, RedisSettings, TokenSettings},
    redis::Redis,
    token::{Revocations, Role, TokenVerifier},
};
use ottr_testkit::Clip;
pub use ottr_testkit::bearer;
use sqlx::PgPool;

/// Feeds the rest of a PATCH body that [`Stack::patch_in_flight`] started.
pub type BodySender = tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>;

pub const SECRET: &str = "edge-test-playback-secret-of-32-bytes-or-more";

pub struct Stack {
    pub edge: String,
    /// The internal metrics port, when `metrics_listen` was set.
    pub metrics_port: Option<u16>,
    pub http: reqwest::Client,
    pub editor: String,
    pub catalog: CatalogServiceClient<tonic::transport::Channel>,
    pub media: MediaServiceClient<tonic::transport::Channel>,
    /// Media's store and database, for looking at what an upload left behind.
    pub media_ctx: ottr_media::pipeline::Context,
    /// What a second edge in front of the same services is built from.
    edge_settings: EdgeSettings,
    tokens: TokenSettings,
    /// Where auth announces ended sessions, for a second edge's verifier.
    redis: Redis,
    scratch: PathBuf,
    _stop: Vec<tokio::sync::oneshot::Sender<()>>,
    /// Asks the edge alone to stop; its task says when it has.
    pub stop_edge: Option<tokio::sync::oneshot::Sender<()>>,
    pub edge_task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

fn stopper(stops: &mut Vec<tokio::sync::oneshot::Sender<()>>) -> impl Future<Output = ()> + Send + 'static {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    stops.push(tx);
    async move {
        let _ = rx.await;
    }
}

pub async fn spawn_stack(pool: PgPool) -> Stack {
    spawn_stack_with(pool, |_| {}).await
}

/// The stack, with the edge's settings changed by `edit` first.
pub async fn spawn_stack_with(pool: PgPool, edit: impl FnOnce(&mut EdgeSettings)) -> Stack {
    spawn_stack_adjusted(pool, edit, |_| {}).await
}

/// The stack, with the edge's and media's settings changed first.
pub async fn spawn_stack_adjusted(
    pool: PgPool,
    edit: impl FnOnce(&mut EdgeSettings),
    edit_media: impl FnOnce(&mut MediaSettings),
) -> Stack {
    let scratch = std::env::temp_dir().join(format!("ottr-edge-test-{}", uuid::Uuid::new_v4().simple()));
    let mut stops = Vec::new();
    let redis_settings =
        RedisSettings { key_prefix: format!("ottr-test:{}:", uuid::Uuid::new_v4()), ..Default::default() };
    let redis = Redis::connect(&redis_settings).unwrap();
    let local = || ListenSettings::new("127.0.0.1", 0);

    let auth_settings = ottr_auth::AuthSettings { listen: local(), ..Default::default() };
    let auth_deps = ottr_auth::Dependencies { pool: pool.clone(), redis: redis.clone() };
    let auth = ottr_auth::Application::build(&auth_settings, &TokenSettings::default(), auth_deps).await.unwrap();
    let auth_url = format!("http://127.0.0.1:{}", auth.port());
    tokio::spawn(auth.run_until_stopped(stopper(&mut stops)));
    let tokens = TokenSettings { auth_url: auth_url.clone(), ..Default::default() };
    let verifier = || Arc::new(TokenVerifier::from_settings(&tokens, Revocations::new(redis.clone())).unwrap());

    let catalog_settings = ottr_catalog::CatalogSettings { listen: local(), ..Default::default() };
    let catalog_deps = ottr_catalog::Dependencies { pool: pool.clone(), redis: redis.clone(), verifier: verifier() };
    let catalog = ottr_catalog::Application::build(&catalog_settings, catalog_deps).await.unwrap();
    let catalog_url = format!("http://127.0.0.1:{}", catalog.port());
    tokio::spawn(catalog.run_until_stopped(stopper(&mut stops)));

    let mut media_settings = MediaSettings { listen: local(), ..Default::default() };
    media_settings.storage.local_root = scratch.join("objects");
    media_settings.work_dir = scratch.join("work");
    media_settings.video.preset = "superfast".into();
    media_settings.worker.poll_ms = 100;
    edit_media(&mut media_settings);
    // Media opens the store to write; the edge, as in production, only to read.
    let store = ottr_storage::ObjectStore::open_read_only(&media_settings.storage).await.unwrap();
    let media_deps =
        ottr_media::Dependencies { pool: pool.clone(), redis: redis.clone(), redis_settings, verifier: verifier() };
    let media = ottr_media::Application::build(media_settings, media_deps).await.unwrap();
    let media_ctx = media.context();
    let media_url = format!("http://127.0.0.1:{}", media.port());
    tokio::spawn(media.run_until_stopped(stopper(&mut stops)));

    let mut edge_settings = EdgeSettings {
        listen: local(),
        auth_url: auth_url.clone(),
        catalog_url: catalog_url.clone(),
        media_url: media_url.clone(),
        ..Default::default()
    };
    edge_settings.playback.secret = SECRET.to_owned().into();
    let repository = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    edge_settings.web_dir = repository.join("web");
    edge_settings.hls_js = repository.join("node_modules/hls.js/dist/hls.min.js");
    edge_settings.tus_js = repository.join("node_modules/tus-js-client/dist/tus.min.js");
    edit(&mut edge_settings);
    let edge_deps = ottr_edge::Dependencies { store: store.clone(), verifier: verifier() };
    let edge = ottr_edge::Application::build(&edge_settings, edge_deps).await.unwrap();
    let edge_url = format!("http://127.0.0.1:{}", edge.port());
    let metrics_port = edge.metrics_port();
    let (stop_edge, edge_stopped) = tokio::sync::oneshot::channel::<()>();
    let edge_task = tokio::spawn(edge.run_until_stopped(async move {
        let _ = edge_stopped.await;
    }));

    ottr_auth::create_user(&pool, "editor@example.org", "a fine passphrase", &[Role::Editor]).await.unwrap();
    let mut auth = auth_pb::auth_service_client::AuthServiceClient::connect(auth_url).await.unwrap();
    let editor = ottr_testkit::login(&mut auth, "editor@example.org", "a fine passphrase").await;
    Stack {
        edge: edge_url,
        metrics_port,
        http: reqwest::Client::new(),
        editor,
        catalog: CatalogServiceClient::connect(catalog_url).await.unwrap(),
        media: MediaServiceClient::connect(media_url).await.unwrap(),
        media_ctx,
        edge_settings,
        tokens,
        redis,
        scratch,
        _stop: stops,
        stop_edge: Some(stop_edge),
        edge_task: Some(edge_task),
    }
}

/// Runs the Node script at `script` (a path from the repository root) with `args`, and
/// returns its exit status and what it printed (stdout, then stderr). Async: the stack
/// answering the script runs on the test's own runtime.
pub async fn node(
    script: &str,
    args: impl IntoIterator<Item = impl AsRef<std::ffi::OsStr>>,
) -> (std::process::ExitStatus, String) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(script);
    let out = tokio::process::Command::new("node")
        .arg(script)
        .args(args)
        .output()
        .await
        .expect("node is installed by scripts/setup.sh");
    (out.status, format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Sends `request` and reads its JSON body.
pub async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

impl Stack {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.edge)
    }

    /// A second edge process's worth of edge in front of the same services (its own
    /// listener and state, as another instance behind a load balancer); returns its URL.
    /// It runs until the test ends.
    pub async fn another_edge(&self) -> String {
        let store = ottr_storage::ObjectStore::open_read_only(&self.media_ctx.settings.storage).await.unwrap();
        let revocations = Revocations::new(self.redis.clone());
        let verifier = Arc::new(TokenVerifier::from_settings(&self.tokens, revocations).unwrap());
        let deps = ottr_edge::Dependencies { store, verifier };
        let edge = ottr_edge::Application::build(&self.edge_settings, deps).await.unwrap();
        let url = format!("http://127.0.0.1:{}", edge.port());
        tokio::spawn(edge.run_until_stopped(std::future::pending()));
        url
    }

    /// Every file under media's object store folder, staging files included.
    pub fn stored_files(&self) -> Vec<String> {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if entry.path().is_dir() {
                    walk(&entry.path(), found);
                } else {
                    found.push(entry.path().display().to_string());
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.media_ctx.settings.storage.local_root, &mut found);
        found
    }

    /// A request to the edge's `path` carrying `token` as its bearer.
    pub fn authed(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(token)
    }

    /// A published movie playing a freshly transcoded 6-second clip; returns its id.
    pub async fn playable_movie(&self) -> String {
        std::fs::create_dir_all(&self.scratch).unwrap();
        let asset = self.ready(self.generate(6, "1280x720", true)).await;

        let fields = catalog_pb::TitleFields {
            kind: catalog_pb::Kind::Movie as i32,
            slug: "test-pattern".into(),
            title: "Test Pattern".into(),
            asset_id: asset.id,
            ..Default::default()
        };
        let mut catalog = self.catalog.clone();
        let title = catalog
            .create_title(bearer(catalog_pb::CreateTitleRequest { fields: Some(fields) }, &self.editor))
            .await
            .unwrap()
            .into_inner();
        let publish = catalog_pb::SetVisibilityRequest {
            id: title.id.clone(),
            visibility: catalog_pb::Visibility::Published as i32,
        };
        catalog.set_visibility(bearer(publish, &self.editor)).await.unwrap();
        title.id
    }

    /// Uploads `bytes` and waits for the transcode to end ready.
    pub async fn ready(&self, bytes: Vec<u8>) -> media_pb::Asset {
        let asset = self.upload(bytes).await;
        let mut events = self
            .media
            .clone()
            .watch_job(bearer(media_pb::WatchJobRequest { job_id: asset.job_id.clone() }, &self.editor))
            .await
            .unwrap()
            .into_inner();
        let mut last = None;
        while let Some(event) = events.message().await.unwrap() {
            last = Some(event.phase);
        }
        assert_eq!(last, Some(media_pb::Phase::Ready as i32));
        asset
    }

    /// Uploads through media's client-streaming RPC as the editor; the job starts at once.
    pub async fn upload(&self, bytes: Vec<u8>) -> media_pb::Asset {
        let mut messages = vec![media_pb::UploadRequest {
            part: Some(media_pb::upload_request::Part::Header(media_pb::UploadHeader {
                filename: "clip.mp4".into(),
                size_bytes: bytes.len() as u64,
            })),
        }];
        messages.extend(
            bytes.chunks(65536).map(|c| media_pb::UploadRequest {
                part: Some(media_pb::upload_request::Part::Chunk(c.to_vec().into())),
            }),
        );
        self.media
            .clone()
            .upload(bearer(tonic::codegen::tokio_stream::iter(messages), &self.editor))
            .await
            .unwrap()
            .into_inner()
    }

    /// Starts, on its own task, the editor's tus PATCH of `length` bytes at offset 0 whose
    /// body is `first` and then whatever the returned sender sends; it ends once the sender
    /// is dropped.
    pub async fn patch_in_flight(
        &self,
        location: &str,
        length: u64,
        first: Vec<u8>,
    ) -> (BodySender, tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>) {
        let (more, rest) = tokio::sync::mpsc::channel(1);
        more.send(Ok(first)).await.unwrap();
        let request = self
            .http
            .patch(location)
            .bearer_auth(&self.editor)
            .header("Tus-Resumable", "1.0.0")
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", "0")
            .header("Content-Length", length.to_string())
            .body(reqwest::Body::wrap_stream(tonic::codegen::tokio_stream::wrappers::ReceiverStream::new(rest)))
            .send();
        (more, tokio::spawn(request))
    }

    /// A generated clip of `seconds`, as bytes.
    pub fn clip(&self, seconds: u32) -> Vec<u8> {
        self.generate(seconds, "640x360", false)
    }

    /// A 720p clip with audio, long enough that its transcode can be caught running.
    pub fn hd_clip(&self, seconds: u32) -> Vec<u8> {
        self.generate(seconds, "1280x720", true)
    }

    /// A 720p clip with English and French audio and English subtitles (one cue the
    /// whole length), as a film from a studio arrives.
    pub fn clip_with_tracks(&self, seconds: u32) -> Vec<u8> {
        std::fs::create_dir_all(&self.scratch).unwrap();
        let srt = self.scratch.join("tracks.srt");
        std::fs::write(&srt, format!("1\n00:00:00,000 --> 00:00:{seconds:02},000\nHello from ottr\n")).unwrap();
        let out = self.scratch.join(format!("tracks-{seconds}.mp4"));
        let video = format!("testsrc2=size=1280x720:rate=25:duration={seconds}");
        let (en, fr) =
            (format!("sine=frequency=440:duration={seconds}"), format!("sine=frequency=660:duration={seconds}"));
        let status = std::process::Command::new("ffmpeg")
            .args([
                "-v", "error", "-y", "-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &en, "-f", "lavfi", "-i", &fr,
                "-i",
            ])
            .arg(&srt)
            .args(["-map", "0", "-map", "1", "-map", "2", "-map", "3", "-c:v", "libx264", "-preset", "ultrafast"])
            .args(["-pix_fmt", "yuv420p", "-c:a", "aac", "-c:s", "mov_text"])
            .args([
                "-metadata:s:a:0",
                "language=eng",
                "-metadata:s:a:1",
                "language=fra",
                "-metadata:s:s:0",
                "language=eng",
            ])
            .arg(&out)
            .status()
            .expect("ffmpeg is installed by scripts/setup.sh");
        assert!(status.success(), "ffmpeg makes the clip");
        std::fs::read(out).unwrap()
    }

    /// A lossless 720p clip of about 14 MB: large enough to span several store parts and
    /// several tus PATCHes.
    pub fn large_clip(&self) -> Vec<u8> {
        Clip::testsrc("1280x720", 25, 8)
            .yuv420p()
            .args(["-qp", "0"])
            .bytes(&self.scratch, "upload-large.mp4")
            .expect("ffmpeg makes the clip")
    }

    fn generate(&self, seconds: u32, size: &str, audio: bool) -> Vec<u8> {
        std::fs::create_dir_all(&self.scratch).unwrap();
        Clip::testsrc(size, 25, seconds)
            .with_audio(audio)
            .yuv420p()
            .bytes(&self.scratch, &format!("upload-{seconds}-{size}-{audio}.mp4"))
            .expect("ffmpeg makes the clip")
    }

    /// Registers a viewer over REST and returns its access token.
    pub async fn viewer(&self) -> String {
        self.session("/api/v1/auth/register", "viewer@example.org").await
    }

    /// Registers another viewer over REST and returns its access token.
    pub async fn register(&self, email: &str) -> String {
        self.session("/api/v1/auth/register", email).await
    }

    /// Signs an existing account in over REST and returns its access token.
    pub async fn sign_in(&self, email: &str) -> String {
        self.session("/api/v1/auth/login", email).await
    }

    async fn session(&self, path: &str, email: &str) -> String {
        let body = serde_json::json!({"email": email, "password": "a fine passphrase"});
        let session: serde_json::Value =
            self.http.post(self.url(path)).json(&body).send().await.unwrap().json().await.unwrap();
        session["access_token"].as_str().unwrap().to_owned()
    }
}
