//! Starts an auth server on port 0 for one test and hands back a connected client.

use ottr_auth::{Application, AuthSettings, Dependencies};
use ottr_proto::auth::v1::{self as pb, auth_service_client::AuthServiceClient};
use ottr_runtime::{
    config::{ListenSettings, RedisSettings, TokenSettings},
    redis::Redis,
    token::{Revocations, Role, TokenVerifier},
};
pub use ottr_testkit::{bearer, code};
use sqlx::PgPool;
use tonic::{Request, transport::Channel};

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub url: String,
    pub pool: PgPool,
    pub client: AuthServiceClient<Channel>,
    pub tokens: TokenSettings,
    /// Where auth announces ended sessions.
    pub redis: Redis,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Settings a test may change before the server starts.
pub struct Knobs {
    pub auth: AuthSettings,
    pub tokens: TokenSettings,
    pub redis: RedisSettings,
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, |_| {}).await
}

pub async fn spawn_app_with(pool: PgPool, change: impl FnOnce(&mut Knobs)) -> TestApp {
    let mut knobs = Knobs {
        auth: AuthSettings {
            listen: ListenSettings::new("127.0.0.1", 0),
            rotation_delay_secs: 0,
            ..AuthSettings::default()
        },
        tokens: TokenSettings { refetch_interval_secs: 0, ..TokenSettings::default() },
        redis: RedisSettings {
            url: std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()).into(),
            key_prefix: format!("ottr-test:{}:", uuid::Uuid::new_v4()),
            ..RedisSettings::default()
        },
    };
    change(&mut knobs);
    let redis = Redis::connect(&knobs.redis).expect("redis settings are valid");
    let deps = Dependencies { pool: pool.clone(), redis: redis.clone() };
    let app = Application::build(&knobs.auth, &knobs.tokens, deps).await.expect("auth starts");
    let url = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    // The listener is already bound, so connecting needs no waiting.
    let client = AuthServiceClient::connect(url.clone()).await.expect("auth accepts connections");
    let tokens = TokenSettings { auth_url: url.clone(), ..knobs.tokens };
    TestApp { url, pool, client, tokens, redis, _stop: stop }
}

/// A request carrying the caller's address in the metadata the edge sets.
pub fn from<T>(address: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("x-ottr-client-ip", address.parse().expect("addresses are ASCII"));
    request
}

impl TestApp {
    /// `count` calls made at once, the i-th from address 203.0.113.i, every one of which
    /// must be refused; their errors, in the order they came back.
    pub async fn refused_at_once<T, Answer>(
        &self,
        count: u32,
        call: impl Fn(AuthServiceClient<Channel>, String) -> Answer,
    ) -> Vec<tonic::Status>
    where
        T: std::fmt::Debug + Send + 'static,
        Answer: Future<Output = Result<tonic::Response<T>, tonic::Status>> + Send + 'static,
    {
        let mut attempts = tokio::task::JoinSet::new();
        for i in 0..count {
            let answer = call(self.client.clone(), format!("203.0.113.{i}"));
            attempts.spawn(async move { answer.await.unwrap_err() });
        }
        attempts.join_all().await
    }

    pub async fn register(&self, email: &str) -> pb::Session {
        self.client
            .clone()
            .register(pb::RegisterRequest { email: email.into(), password: PASSWORD.into() })
            .await
            .expect("registration succeeds")
            .into_inner()
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<pb::Session, tonic::Status> {
        self.client
            .clone()
            .login(pb::LoginRequest { email: email.into(), password: password.into() })
            .await
            .map(tonic::Response::into_inner)
    }

    /// A sign-in relayed the way the edge relays one: over loopback, naming the caller.
    pub async fn login_from(&self, address: &str, email: &str, password: &str) -> Result<pb::Session, tonic::Status> {
        let request = from(address, pb::LoginRequest { email: email.into(), password: password.into() });
        self.client.clone().login(request).await.map(tonic::Response::into_inner)
    }

    /// A registration relayed by the edge for the caller at `address`.
    pub async fn register_from(&self, address: &str, email: &str) -> Result<pb::Session, tonic::Status> {
        let request = from(address, pb::RegisterRequest { email: email.into(), password: PASSWORD.into() });
        self.client.clone().register(request).await.map(tonic::Response::into_inner)
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<pb::Session, tonic::Status> {
        let request = pb::RefreshRequest { refresh_token: refresh_token.into() };
        self.client.clone().refresh(request).await.map(tonic::Response::into_inner)
    }

    /// The caller of `access_token`, as auth itself sees it.
    pub async fn me(&self, access_token: &str) -> Result<pb::User, tonic::Status> {
        self.client.clone().me(bearer(pb::MeRequest {}, access_token)).await.map(tonic::Response::into_inner)
    }

    /// A verifier as another service builds one: keys from auth over gRPC, ended sessions
    /// from the Redis auth announces them in.
    pub fn other_service(&self) -> TokenVerifier {
        TokenVerifier::from_settings(&self.tokens, Revocations::new(self.redis.clone())).unwrap()
    }

    /// An account made the way an operator makes one (the CLI's path), signed in.
    pub async fn signed_in_with(&self, email: &str, roles: &[Role]) -> pb::Session {
        ottr_auth::create_user(&self.pool, email, PASSWORD, roles).await.expect("account created");
        self.login(email, PASSWORD).await.expect("sign-in succeeds")
    }
}
