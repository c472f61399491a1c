//! The first `ottr up` on an empty database: an admin account (its password printed once)
//! and a short generated demo clip, uploaded, transcoded and published through the
//! services' own gRPC APIs, so a newcomer has something to play.

use anyhow::Context;
use tonic::{Request, transport::Channel};

use ottr_proto::{
    auth::v1::{LoginRequest, auth_service_client::AuthServiceClient},
    catalog::v1::{self as catalog, catalog_service_client::CatalogServiceClient},
    media::v1::{self as media, media_service_client::MediaServiceClient},
};
use ottr_runtime::token::Role;

pub(crate) const ADMIN_EMAIL: &str = "admin@ottr.local";

/// Creates the first admin when there is no account at all; returns its password.
pub(crate) async fn admin(pool: &sqlx::PgPool) -> anyhow::Result<Option<String>> {
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM auth.users").fetch_one(pool).await?;
    if accounts > 0 {
        return Ok(None);
    }
    let password = ottr_auth::domain::password::generate();
    ottr_auth::create_user(pool, ADMIN_EMAIL, &password, &[Role::Admin, Role::Editor])
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Some(password))
}

fn bearer<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// Generates, uploads, transcodes and publishes the demo title.
pub(crate) async fn demo(
    auth: String,
    catalog_url: String,
    media_url: String,
    password: String,
    work: std::path::PathBuf,
) -> anyhow::Result<()> {
    let token = AuthServiceClient::connect(auth)
        .await?
        .login(LoginRequest { email: ADMIN_EMAIL.into(), password })
        .await?
        .into_inner()
        .access_token;
    tokio::fs::create_dir_all(&work).await?;
    let clip = work.join("ottr-demo.mp4");
    let status = tokio::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=20"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:duration=20",
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
        ])
        .args(["-pix_fmt", "yuv420p", "-c:a", "aac"])
        .arg(&clip)
        .status()
        .await
        .context("running ffmpeg to make the demo clip")?;
    anyhow::ensure!(status.success(), "ffmpeg could not make the demo clip");
    let bytes = tokio::fs::read(&clip).await?;
    let _ = tokio::fs::remove_file(&clip).await;

    let mut media = MediaServiceClient::<Channel>::connect(media_url).await?;
    let header = media::UploadRequest {
        part: Some(media::upload_request::Part::Header(media::UploadHeader {
            filename: "ottr-demo.mp4".into(),
            size_bytes: bytes.len() as u64,
        })),
    };
    let chunks = bytes
        .chunks(256 * 1024)
        .map(|c| media::UploadRequest { part: Some(media::upload_request::Part::Chunk(c.to_vec().into())) });
    let messages: Vec<_> = std::iter::once(header).chain(chunks).collect();
    let asset = media.upload(bearer(tonic::codegen::tokio_stream::iter(messages), &token)).await?.into_inner();

    let mut catalog = CatalogServiceClient::<Channel>::connect(catalog_url).await?;
    let fields = catalog::TitleFields {
        kind: catalog::Kind::Movie as i32,
        slug: "ottr-demo".into(),
        title: "ottr demo: test pattern".into(),
        synopsis: "A generated test pattern with a tone, transcoded by ottr on its first run.".into(),
        release_year: 2026,
        runtime_secs: 20,
        genres: vec!["demo".into()],
        asset_id: asset.id,
        ..Default::default()
    };
    let title =
        catalog.create_title(bearer(catalog::CreateTitleRequest { fields: Some(fields) }, &token)).await?.into_inner();
    let mut events =
        media.watch_job(bearer(media::WatchJobRequest { job_id: asset.job_id }, &token)).await?.into_inner();
    let mut phase = 0;
    while let Some(event) = events.message().await? {
        phase = event.phase;
    }
    anyhow::ensure!(phase == media::Phase::Ready as i32, "the demo transcode did not finish");
    let publish = catalog::SetVisibilityRequest { id: title.id, visibility: catalog::Visibility::Published as i32 };
    catalog.set_visibility(bearer(publish, &token)).await?;
    Ok(())
}
