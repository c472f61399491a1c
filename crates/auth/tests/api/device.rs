//! TV sign-in, RFC 8628's device flow: codes, polling, approval, expiry and throttling.

use ottr_proto::auth::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, TestApp, bearer, code, from, spawn_app, spawn_app_with};

async fn start(app: &TestApp) -> pb::DeviceAuthorization {
    let request = pb::StartDeviceAuthorizationRequest {};
    app.client.clone().start_device_authorization(request).await.unwrap().into_inner()
}

async fn poll(app: &TestApp, device_code: &str) -> Result<pb::Session, tonic::Status> {
    let request = pb::PollDeviceTokenRequest { device_code: device_code.into() };
    app.client.clone().poll_device_token(request).await.map(tonic::Response::into_inner)
}

async fn decide(app: &TestApp, token: &str, user_code: &str, deny: bool) -> Result<(), tonic::Status> {
    let request = pb::ApproveDeviceRequest { user_code: user_code.into(), deny };
    app.client.clone().approve_device(bearer(request, token)).await.map(drop)
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_device_gets_a_session_once_after_a_signed_in_viewer_approves_its_code(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let viewer = app.register("ada@example.org").await;
    let device = start(&app).await;

    let shown = &device.user_code;
    assert_eq!(shown.len(), 9, "{shown}");
    assert_eq!(&shown[4..5], "-");
    assert!(shown.chars().filter(|c| *c != '-').all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)), "{shown}");
    assert_eq!(device.verification_uri, "http://127.0.0.1:8080/#/activate");
    assert_eq!(device.verification_uri_complete, format!("{}?code={shown}", device.verification_uri));
    assert_eq!((device.expires_in, device.interval), (600, 5));
    assert!(device.device_code.len() >= 43, "256 bits");
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT device_code_hash FROM auth.device_authorizations").fetch_all(&pool).await.unwrap();
    assert!(stored.len() == 1 && stored[0].len() == 32 && stored[0] != device.device_code.as_bytes(), "a hash only");

    let pending = poll(&app, &device.device_code).await.unwrap_err();
    assert_eq!(pending.code(), tonic::Code::FailedPrecondition);
    assert_eq!(code(&pending), "authorization_pending");
    let too_soon = poll(&app, &device.device_code).await.unwrap_err();
    assert_eq!(code(&too_soon), "slow_down");
    assert_eq!(too_soon.metadata().get("retry-after").unwrap(), "10", "the interval grew by 5 s");

    // Typed on a phone: lower case, no dash.
    let typed = shown.replace('-', "").to_lowercase();
    decide(&app, &viewer.access_token, &typed, false).await.unwrap();
    let session = poll(&app, &device.device_code).await.unwrap();
    assert_eq!(session.user.unwrap().email, "ada@example.org");
    assert_eq!(app.me(&session.access_token).await.unwrap().email, "ada@example.org");
    assert!(app.refresh(&session.refresh_token).await.is_ok(), "a session of its own");

    let again = poll(&app, &device.device_code).await.unwrap_err();
    assert_eq!(code(&again), "invalid_device_code", "single use");
    assert_eq!(code(&decide(&app, &viewer.access_token, shown, false).await.unwrap_err()), "invalid_user_code");
    assert!(app.me(&viewer.access_token).await.is_ok(), "the approving session is untouched");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_refused_device_is_told_access_denied(pool: PgPool) {
    let app = spawn_app(pool).await;
    let viewer = app.register("ada@example.org").await;
    let device = start(&app).await;
    decide(&app, &viewer.access_token, &device.user_code, true).await.unwrap();
    let denied = poll(&app, &device.device_code).await.unwrap_err();
    assert_eq!(code(&denied), "access_denied");
    assert_eq!(code(&poll(&app, &device.device_code).await.unwrap_err()), "access_denied");
    assert_eq!(code(&poll(&app, "never-issued").await.unwrap_err()), "invalid_device_code");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn codes_expire_for_the_device_and_for_the_viewer(pool: PgPool) {
    let app = spawn_app_with(pool, |k| k.auth.device.code_ttl_secs = 1).await;
    let viewer = app.register("ada@example.org").await;
    let device = start(&app).await;
    assert_eq!(device.expires_in, 1);
    // The database's clock decides; nothing here can stand in for a second passing.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let late = decide(&app, &viewer.access_token, &device.user_code, false).await.unwrap_err();
    assert_eq!(code(&late), "expired_token");
    assert_eq!(code(&poll(&app, &device.device_code).await.unwrap_err()), "expired_token");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn wrong_user_codes_are_throttled_per_account_and_right_ones_cost_nothing(pool: PgPool) {
    let app = spawn_app_with(pool, |k| k.auth.throttle.max_wrong_user_codes_per_account = 3).await;
    let ada = app.register("ada@example.org").await;
    let ada_elsewhere = app.login_from("198.51.100.8", "ada@example.org", PASSWORD).await.unwrap();
    let device = start(&app).await;

    for guess in ["BBBB-BBBB", "not a code", "CCCC-CCCC"] {
        let wrong = decide(&app, &ada.access_token, guess, false).await.unwrap_err();
        assert_eq!(wrong.code(), tonic::Code::NotFound);
        assert_eq!(code(&wrong), "invalid_user_code", "{guess}");
    }
    let locked = decide(&app, &ada.access_token, &device.user_code, false).await.unwrap_err();
    assert_eq!(code(&locked), "too_many_attempts", "even the right code, once the account is at its limit");
    assert!(locked.metadata().get("retry-after").is_some());

    // Per account: her session from another address is held to the same count.
    let same_account = decide(&app, &ada_elsewhere.access_token, &device.user_code, false).await.unwrap_err();
    assert_eq!(code(&same_account), "too_many_attempts");
    let carol = app.register("carol@example.org").await;
    decide(&app, &carol.access_token, &device.user_code, false).await.unwrap();
    for _ in 0..5 {
        let fresh = start(&app).await;
        decide(&app, &carol.access_token, &fresh.user_code, false).await.unwrap();
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn asking_for_codes_is_throttled_per_client_address(pool: PgPool) {
    let app = spawn_app_with(pool, |k| k.auth.throttle.max_device_codes_per_address = 2).await;
    let ask = |address: &str| {
        let request = from(address, pb::StartDeviceAuthorizationRequest {});
        let mut client = app.client.clone();
        async move { client.start_device_authorization(request).await }
    };
    ask("203.0.113.5").await.unwrap();
    ask("203.0.113.5").await.unwrap();
    let throttled = ask("203.0.113.5").await.unwrap_err();
    assert_eq!(code(&throttled), "too_many_attempts");
    assert!(ask("203.0.113.6").await.is_ok(), "another address is untouched");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_approval_goes_with_the_session_that_gave_it(pool: PgPool) {
    let app = spawn_app(pool).await;
    let viewer = app.register("ada@example.org").await;
    let device = start(&app).await;
    decide(&app, &viewer.access_token, &device.user_code, false).await.unwrap();
    app.client.clone().logout(pb::LogoutRequest { refresh_token: viewer.refresh_token.clone() }).await.unwrap();
    assert_eq!(code(&poll(&app, &device.device_code).await.unwrap_err()), "access_denied");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn approving_needs_a_signed_in_viewer(pool: PgPool) {
    let app = spawn_app(pool).await;
    let device = start(&app).await;
    let request = pb::ApproveDeviceRequest { user_code: device.user_code, deny: false };
    let anonymous = app.client.clone().approve_device(request).await.unwrap_err();
    assert_eq!(code(&anonymous), "unauthenticated");
}
