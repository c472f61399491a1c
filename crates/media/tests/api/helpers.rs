//! Test harness: scratch folders, generated clips, an S3 server, auth and media on port 0.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use ottr_media::{Application, Dependencies, MediaSettings, pipeline::Context};
use ottr_proto::media::v1::{self as pb, media_service_client::MediaServiceClient};
use ottr_runtime::{
    config::{ListenSettings, RedisSettings, TokenSettings},
    redis::Redis,
    token::{Revocations, Role, TokenVerifier},
};
use ottr_testkit::Clip;
pub use ottr_testkit::{bearer, code};
use sqlx::PgPool;
use tonic::transport::Channel;

/// A folder removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("ottr-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Makes a clip from the lavfi `video` source (keyframes every 30 frames), with a tone
/// when `audio`, and `extra` output options.
pub fn clip(dir: &Path, name: &str, video: &str, audio: bool, extra: &[&str]) -> PathBuf {
    Clip::lavfi(video).with_audio(audio).args(extra).args(["-g", "30"]).make(&dir.join(name)).unwrap()
}

pub fn landscape(dir: &Path, seconds: u32) -> PathBuf {
    clip(
        dir,
        "landscape.mp4",
        &format!("testsrc2=size=1920x1080:rate=30:duration={seconds}"),
        true,
        &["-pix_fmt", "yuv420p"],
    )
}

pub struct TestApp {
    pub client: MediaServiceClient<Channel>,
    /// Where its gRPC services answer.
    pub url: String,
    pub editor: String,
    pub viewer: String,
    pub ctx: Context,
    pub objects: PathBuf,
    /// The media process's task; aborting it is this test suite's kill -9.
    pub media: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    _scratch: Scratch,
    _stop: Vec<tokio::sync::oneshot::Sender<()>>,
}

fn redis_settings() -> RedisSettings {
    RedisSettings {
        url: std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()).into(),
        key_prefix: format!("ottr-test:{}:", uuid::Uuid::new_v4()),
        ..RedisSettings::default()
    }
}

/// Media settings for tests: local storage and work folders under `scratch`, fast
/// polling and short leases, the fastest x264 preset.
pub fn settings(scratch: &Path) -> MediaSettings {
    let mut settings = MediaSettings { listen: ListenSettings::new("127.0.0.1", 0), ..Default::default() };
    settings.storage.local_root = scratch.join("objects");
    settings.work_dir = scratch.join("work");
    // The fastest preset that still encodes High profile (ultrafast drops to Baseline).
    settings.video.preset = "superfast".into();
    settings.worker.poll_ms = 100;
    settings.worker.heartbeat_secs = 1;
    settings.worker.lease_secs = 5;
    settings.worker.progress_interval_ms = 200;
    settings.worker.retry_base_secs = 1;
    settings.worker.concurrency = 1;
    settings
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, |_| {}).await
}

pub async fn spawn_app_with(pool: PgPool, change: impl FnOnce(&mut MediaSettings)) -> TestApp {
    let scratch = Scratch::new();
    let mut stops = Vec::new();
    let redis_settings = redis_settings();
    let redis = Redis::connect(&redis_settings).unwrap();
    let auth_settings = ottr_auth::AuthSettings { listen: ListenSettings::new("127.0.0.1", 0), ..Default::default() };
    let auth = ottr_auth::Application::build(
        &auth_settings,
        &TokenSettings::default(),
        ottr_auth::Dependencies { pool: pool.clone(), redis: redis.clone() },
    )
    .await
    .unwrap();
    let auth_url = format!("http://127.0.0.1:{}", auth.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    stops.push(stop);
    tokio::spawn(auth.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    let tokens = TokenSettings { auth_url: auth_url.clone(), ..TokenSettings::default() };
    let verifier = Arc::new(TokenVerifier::from_settings(&tokens, Revocations::new(redis.clone())).unwrap());
    let mut settings = settings(&scratch.0);
    change(&mut settings);
    let objects = settings.storage.local_root.clone();
    let deps = Dependencies { pool: pool.clone(), redis, redis_settings, verifier };
    let app = Application::build(settings, deps).await.unwrap();
    let ctx = app.context();
    let url = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    stops.push(stop);
    let media = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    let mut auth = ottr_proto::auth::v1::auth_service_client::AuthServiceClient::connect(auth_url).await.unwrap();
    let mut sign_in = async |email: &str, roles: &[Role]| {
        // A second instance in the same test finds the accounts made by the first.
        match ottr_auth::create_user(&pool, email, "a fine passphrase", roles).await {
            Ok(_) | Err(ottr_auth::AuthError::EmailTaken) => {}
            Err(error) => panic!("{error}"),
        }
        ottr_testkit::login(&mut auth, email, "a fine passphrase").await
    };
    let editor = sign_in("editor@example.org", &[Role::Editor]).await;
    let viewer = sign_in("viewer@example.org", &[Role::Viewer]).await;
    TestApp {
        client: MediaServiceClient::connect(url.clone()).await.unwrap(),
        url,
        editor,
        viewer,
        ctx,
        objects,
        media,
        _scratch: scratch,
        _stop: stops,
    }
}

impl TestApp {
    /// Uploads `path` through the client-streaming RPC, in 64 KiB chunks.
    pub async fn upload(&self, path: &Path) -> Result<pb::Asset, tonic::Status> {
        let bytes = std::fs::read(path).unwrap();
        self.upload_bytes(&path.file_name().unwrap().to_string_lossy(), bytes.len() as u64, bytes, &self.editor).await
    }

    pub async fn upload_bytes(
        &self,
        filename: &str,
        declared: u64,
        bytes: Vec<u8>,
        token: &str,
    ) -> Result<pb::Asset, tonic::Status> {
        let header = pb::UploadRequest {
            part: Some(pb::upload_request::Part::Header(pb::UploadHeader {
                filename: filename.into(),
                size_bytes: declared,
            })),
        };
        let mut messages = vec![header];
        messages.extend(
            bytes
                .chunks(64 * 1024)
                .map(|c| pb::UploadRequest { part: Some(pb::upload_request::Part::Chunk(c.to_vec().into())) }),
        );
        let request = bearer(tonic::codegen::tokio_stream::iter(messages), token);
        self.client.clone().upload(request).await.map(tonic::Response::into_inner)
    }

    /// The job's event stream as the editor watches it: a snapshot, then every change.
    pub async fn events(&self, job_id: &str) -> tonic::Streaming<pb::JobEvent> {
        let request = bearer(pb::WatchJobRequest { job_id: job_id.into() }, &self.editor);
        self.client.clone().watch_job(request).await.unwrap().into_inner()
    }

    /// Every event of the job until it ends.
    pub async fn watch(&self, job_id: &str) -> Vec<pb::JobEvent> {
        let mut stream = self.events(job_id).await;
        let mut events = Vec::new();
        let wait = tokio::time::timeout(std::time::Duration::from_secs(300), async {
            while let Some(event) = stream.message().await.unwrap() {
                events.push(event);
            }
        });
        wait.await.expect("the job ends within five minutes");
        events
    }

    pub async fn asset(&self, id: &str) -> pb::Asset {
        let request = bearer(pb::GetAssetRequest { id: id.into() }, &self.editor);
        self.client.clone().get_asset(request).await.unwrap().into_inner()
    }

    /// Keys stored under `prefix` in the local object store.
    pub async fn stored(&self, prefix: &str) -> Vec<String> {
        self.ctx.store.list(prefix).await.unwrap()
    }
}
