//! Changing one's password: the current one is checked (throttled like sign-in), every other
//! session ends at once, the caller's stays.

use ottr_proto::auth::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, TestApp, bearer, code, from, spawn_app, spawn_app_with};

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn change(app: &TestApp, token: &str, current: &str, new: &str) -> Result<u32, tonic::Status> {
    let request = pb::ChangePasswordRequest { current_password: current.into(), new_password: new.into() };
    let answer = app.client.clone().change_password(bearer(request, token)).await?;
    Ok(answer.into_inner().sessions_ended)
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_new_password_ends_every_other_session_at_once_and_keeps_the_callers(pool: PgPool) {
    let app = spawn_app(pool).await;
    let laptop = app.register("ada@example.org").await;
    let phone = app.login("ada@example.org", PASSWORD).await.unwrap();
    let tv = app.login("ada@example.org", PASSWORD).await.unwrap();
    let catalog = app.other_service();

    assert_eq!(change(&app, &laptop.access_token, PASSWORD, NEW_PASSWORD).await.unwrap(), 2);

    for other in [&phone, &tv] {
        assert_eq!(code(&app.refresh(&other.refresh_token).await.unwrap_err()), "invalid_refresh_token");
        assert!(catalog.verify(&other.access_token).await.is_err(), "another service refuses it at once");
        assert_eq!(code(&app.me(&other.access_token).await.unwrap_err()), "token_invalid");
    }
    assert!(catalog.verify(&laptop.access_token).await.is_ok(), "the caller's access token still works");
    assert!(app.me(&laptop.access_token).await.is_ok());
    assert!(app.refresh(&laptop.refresh_token).await.is_ok(), "and its refresh token");

    assert_eq!(code(&app.login("ada@example.org", PASSWORD).await.unwrap_err()), "invalid_credentials");
    assert!(app.login("ada@example.org", NEW_PASSWORD).await.is_ok());
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_wrong_current_password_is_invalid_credentials_and_throttled_like_sign_in(pool: PgPool) {
    let app = spawn_app_with(pool, |k| k.auth.throttle.max_failures_per_account = 3).await;
    let session = app.register("ada@example.org").await;
    let token = &session.access_token;

    let short = change(&app, token, "wrong password", "short").await.unwrap_err();
    assert_eq!(code(&short), "invalid_password", "the new password's rules come first, costing no attempt");
    for attempt in 1..=3 {
        let refused = change(&app, token, "wrong password", NEW_PASSWORD).await.unwrap_err();
        assert_eq!(refused.code(), tonic::Code::Unauthenticated);
        assert_eq!(code(&refused), "invalid_credentials", "attempt {attempt}");
    }
    let locked = change(&app, token, PASSWORD, NEW_PASSWORD).await.unwrap_err();
    assert_eq!(code(&locked), "too_many_attempts", "the account's sign-in count is the same one");
    assert_eq!(code(&app.login("ada@example.org", PASSWORD).await.unwrap_err()), "too_many_attempts");
    assert!(app.me(token).await.is_ok(), "failed attempts end no session");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn the_password_check_counts_against_the_callers_address_as_the_edge_names_it(pool: PgPool) {
    let app = spawn_app_with(pool, |k| k.auth.throttle.max_failures_per_address = 2).await;
    let ada = app.register("ada@example.org").await;
    for _ in 0..2 {
        let request =
            pb::ChangePasswordRequest { current_password: "wrong password".into(), new_password: NEW_PASSWORD.into() };
        let mut request = from("198.51.100.4", request);
        request.metadata_mut().insert("authorization", format!("Bearer {}", ada.access_token).parse().unwrap());
        app.client.clone().change_password(request).await.unwrap_err();
    }
    let throttled = app.login_from("198.51.100.4", "ada@example.org", PASSWORD).await.unwrap_err();
    assert_eq!(code(&throttled), "too_many_attempts");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn changing_a_password_needs_a_token(pool: PgPool) {
    let app = spawn_app(pool).await;
    let request = pb::ChangePasswordRequest { current_password: PASSWORD.into(), new_password: NEW_PASSWORD.into() };
    let refused = app.client.clone().change_password(request).await.unwrap_err();
    assert_eq!(code(&refused), "unauthenticated");
}
