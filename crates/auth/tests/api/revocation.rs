//! Ended sessions end their access tokens at once, for every service that verifies them,
//! and what happens when Redis, where they are announced, is away.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ottr_proto::auth::v1 as pb;
use ottr_runtime::token::TokenError;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, code, spawn_app, spawn_app_with};

fn claim(access_token: &str, name: &str) -> serde_json::Value {
    let payload = URL_SAFE_NO_PAD.decode(access_token.split('.').nth(1).unwrap()).unwrap();
    serde_json::from_slice::<serde_json::Value>(&payload).unwrap()[name].clone()
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_access_token_names_its_session_and_a_refresh_keeps_it(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let first = app.register("ada@example.org").await;
    let refreshed = app.refresh(&first.refresh_token).await.unwrap();
    let other = app.login("ada@example.org", PASSWORD).await.unwrap();

    let family: uuid::Uuid = sqlx::query_scalar("SELECT id FROM auth.refresh_families ORDER BY created_at LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(claim(&first.access_token, "sid"), family.to_string());
    assert_eq!(claim(&refreshed.access_token, "sid"), family.to_string(), "one sign-in, one session");
    assert_ne!(claim(&other.access_token, "sid"), family.to_string(), "another sign-in, another session");
    let caller = app.other_service().verify(&first.access_token).await.unwrap();
    assert_eq!(caller.session_id, Some(family));
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn signing_out_ends_the_sessions_access_tokens_everywhere_at_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let phone = app.register("ada@example.org").await;
    let laptop = app.login("ada@example.org", PASSWORD).await.unwrap();
    let catalog = app.other_service();
    assert!(catalog.verify(&phone.access_token).await.is_ok());

    app.client.clone().logout(pb::LogoutRequest { refresh_token: phone.refresh_token.clone() }).await.unwrap();
    let refused = catalog.verify(&phone.access_token).await.unwrap_err();
    assert!(matches!(refused, TokenError::Invalid("the session has ended")), "{refused:?}");
    let at_auth = app.me(&phone.access_token).await.unwrap_err();
    assert_eq!(code(&at_auth), "token_invalid");
    assert!(catalog.verify(&laptop.access_token).await.is_ok(), "another sign-in is untouched");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_reused_refresh_token_ends_the_access_tokens_of_its_family_too(pool: PgPool) {
    let app = spawn_app_with(pool, |k| k.auth.refresh_grace_secs = 0).await;
    let stolen = app.register("ada@example.org").await;
    let legit = app.refresh(&stolen.refresh_token).await.unwrap();
    assert_eq!(code(&app.refresh(&stolen.refresh_token).await.unwrap_err()), "refresh_token_reused");
    assert_eq!(code(&app.me(&legit.access_token).await.unwrap_err()), "token_invalid");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn with_redis_away_ended_sessions_keep_their_access_tokens_until_expiry_but_never_refresh(pool: PgPool) {
    // A port nothing listens on: Redis went away. Redis is never required, so verifying
    // degrades to signatures and claims (and logs it) rather than refusing everyone.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(pool, |k| k.redis.url = format!("redis://127.0.0.1:{closed}").into()).await;
    let phone = app.register("ada@example.org").await;
    app.client.clone().logout(pb::LogoutRequest { refresh_token: phone.refresh_token.clone() }).await.unwrap();

    assert!(app.other_service().verify(&phone.access_token).await.is_ok(), "accepted, for at most its lifetime");
    assert_eq!(code(&app.refresh(&phone.refresh_token).await.unwrap_err()), "invalid_refresh_token");
}
