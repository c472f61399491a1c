//! Starts auth and catalog on port 0 for one test, with signed-in editor and viewers.

use std::sync::Arc;

use ottr_catalog::{Application, CatalogSettings, Dependencies, cache::CacheStats};
use ottr_proto::catalog::v1::{
    self as pb, catalog_service_client::CatalogServiceClient, library_service_client::LibraryServiceClient,
};
use ottr_runtime::{
    config::{ListenSettings, RedisSettings, TokenSettings},
    redis::Redis,
    token::{Revocations, Role, TokenVerifier},
};
pub use ottr_testkit::{bearer, code};
use sqlx::PgPool;
use tonic::{Request, transport::Channel};

pub struct TestApp {
    pub catalog: CatalogServiceClient<Channel>,
    pub library: LibraryServiceClient<Channel>,
    pub stats: Arc<CacheStats>,
    pub editor: String,
    pub viewer: String,
    /// A second account, to prove one account cannot touch another's profiles.
    pub other_viewer: String,
    _stop: Vec<tokio::sync::oneshot::Sender<()>>,
}

fn redis_settings(url: Option<String>) -> RedisSettings {
    RedisSettings {
        url: url.or_else(|| std::env::var("REDIS_URL").ok()).unwrap_or_else(|| "redis://127.0.0.1:6379".into()).into(),
        key_prefix: format!("ottr-test:{}:", uuid::Uuid::new_v4()),
        ..RedisSettings::default()
    }
}

fn stopper() -> (tokio::sync::oneshot::Sender<()>, impl Future<Output = ()> + Send + 'static) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    (tx, async move {
        let _ = rx.await;
    })
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with_redis(pool, None).await
}

/// `redis_url` points the catalog's cache somewhere else (a closed port, say).
pub async fn spawn_app_with_redis(pool: PgPool, redis_url: Option<String>) -> TestApp {
    spawn_app_with(pool, redis_url, CatalogSettings::default()).await
}

/// The catalog with `settings` (its listener moved to port 0).
pub async fn spawn_app_with(pool: PgPool, redis_url: Option<String>, settings: CatalogSettings) -> TestApp {
    let mut stops = Vec::new();
    let auth_settings = ottr_auth::AuthSettings { listen: ListenSettings::new("127.0.0.1", 0), ..Default::default() };
    // Auth's Redis is where it announces ended sessions, so the catalog's verifier reads it.
    let auth_redis = Redis::connect(&redis_settings(None)).unwrap();
    let auth_deps = ottr_auth::Dependencies { pool: pool.clone(), redis: auth_redis.clone() };
    let auth = ottr_auth::Application::build(&auth_settings, &TokenSettings::default(), auth_deps).await.unwrap();
    let auth_url = format!("http://127.0.0.1:{}", auth.port());
    let (stop, stopped) = stopper();
    stops.push(stop);
    tokio::spawn(auth.run_until_stopped(stopped));

    let tokens = TokenSettings { auth_url: auth_url.clone(), ..TokenSettings::default() };
    let verifier = Arc::new(TokenVerifier::from_settings(&tokens, Revocations::new(auth_redis)).unwrap());
    let redis = Redis::connect(&redis_settings(redis_url)).unwrap();
    let settings = CatalogSettings { listen: ListenSettings::new("127.0.0.1", 0), ..settings };
    let app = Application::build(&settings, Dependencies { pool: pool.clone(), redis, verifier }).await.unwrap();
    let stats = app.cache_stats();
    let url = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = stopper();
    stops.push(stop);
    tokio::spawn(app.run_until_stopped(stopped));

    let channel = tonic::transport::Endpoint::from_shared(url).unwrap().connect().await.unwrap();
    let mut auth = ottr_proto::auth::v1::auth_service_client::AuthServiceClient::connect(auth_url).await.unwrap();
    let mut sign_in = async |email: &str, roles: &[Role]| {
        ottr_auth::create_user(&pool, email, "a fine passphrase", roles).await.unwrap();
        ottr_testkit::login(&mut auth, email, "a fine passphrase").await
    };
    let editor = sign_in("editor@example.org", &[Role::Editor]).await;
    let viewer = sign_in("viewer@example.org", &[Role::Viewer]).await;
    let other_viewer = sign_in("other@example.org", &[Role::Viewer]).await;
    TestApp {
        catalog: CatalogServiceClient::new(channel.clone()),
        library: LibraryServiceClient::new(channel),
        stats,
        editor,
        viewer,
        other_viewer,
        _stop: stops,
    }
}

pub fn movie(slug: &str, title: &str, synopsis: &str) -> pb::TitleFields {
    pb::TitleFields {
        kind: pb::Kind::Movie as i32,
        slug: slug.into(),
        title: title.into(),
        synopsis: synopsis.into(),
        release_year: 1949,
        runtime_secs: 6240,
        genres: vec!["Drama".into()],
        ..Default::default()
    }
}

impl TestApp {
    pub async fn create(&self, fields: pb::TitleFields) -> pb::Title {
        self.try_create(Some(fields)).await.expect("an editor creates titles")
    }

    /// The editor's CreateTitle with `fields` as given, refusals included.
    pub async fn try_create(&self, fields: Option<pb::TitleFields>) -> Result<pb::Title, tonic::Status> {
        let request = bearer(pb::CreateTitleRequest { fields }, &self.editor);
        Ok(self.catalog.clone().create_title(request).await?.into_inner())
    }

    pub async fn set_visibility(&self, id: &str, visibility: pb::Visibility) -> pb::Title {
        self.catalog
            .clone()
            .set_visibility(bearer(
                pb::SetVisibilityRequest { id: id.into(), visibility: visibility as i32 },
                &self.editor,
            ))
            .await
            .unwrap()
            .into_inner()
    }

    pub async fn published(&self, fields: pb::TitleFields) -> pb::Title {
        let title = self.create(fields).await;
        self.set_visibility(&title.id, pb::Visibility::Published).await
    }

    pub async fn get(&self, id_or_slug: &str, token: Option<&str>) -> Result<pb::Title, tonic::Status> {
        let message = pb::GetTitleRequest { id_or_slug: id_or_slug.into(), ..Default::default() };
        let request = match token {
            Some(token) => bearer(message, token),
            None => Request::new(message),
        };
        self.catalog.clone().get_title(request).await.map(tonic::Response::into_inner)
    }

    /// ListTitles as a visitor (no token).
    pub async fn list(&self, request: pb::ListTitlesRequest) -> Result<pb::ListTitlesResponse, tonic::Status> {
        Ok(self.catalog.clone().list_titles(request).await?.into_inner())
    }

    /// SearchTitles for `query` as a visitor (no token).
    pub async fn search(&self, query: &str) -> Result<pb::ListTitlesResponse, tonic::Status> {
        let request = pb::SearchTitlesRequest { query: query.into(), ..Default::default() };
        Ok(self.catalog.clone().search_titles(request).await?.into_inner())
    }

    pub async fn profile(&self, token: &str, name: &str) -> String {
        self.try_profile(token, name).await.unwrap().id
    }

    /// CreateProfile for the holder of `token`, refusals included.
    pub async fn try_profile(&self, token: &str, name: &str) -> Result<pb::Profile, tonic::Status> {
        let request = bearer(pb::CreateProfileRequest { name: name.into(), ..Default::default() }, token);
        Ok(self.library.clone().create_profile(request).await?.into_inner())
    }
}
