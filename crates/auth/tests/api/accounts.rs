//! Registration, sign-in and Me.

use ottr_proto::auth::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, bearer, code, spawn_app};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_new_account_is_a_viewer_and_is_signed_in(pool: PgPool) {
    let app = spawn_app(pool).await;
    let session = app.register("  Ada@Example.org ").await;
    let user = session.user.expect("session names its user");
    assert_eq!(user.email, "ada@example.org", "email is normalised");
    assert_eq!(user.roles, vec![pb::Role::Viewer as i32]);
    assert!(!session.access_token.is_empty() && !session.refresh_token.is_empty());
    assert!(session.expires_in > 0 && session.expires_in <= 900);

    let me = app.client.clone().me(bearer(pb::MeRequest {}, &session.access_token)).await.unwrap();
    assert_eq!(me.into_inner().id, user.id);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn passwords_are_stored_only_as_argon2id_hashes(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    app.register("ada@example.org").await;
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM auth.users").fetch_one(&pool).await.unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    assert!(!stored.contains(PASSWORD));
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_second_account_with_the_same_email_is_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.register("ada@example.org").await;
    let again = app
        .client
        .clone()
        .register(pb::RegisterRequest { email: "ADA@example.org".into(), password: PASSWORD.into() })
        .await
        .unwrap_err();
    assert_eq!(again.code(), tonic::Code::AlreadyExists);
    assert_eq!(code(&again), "email_taken");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn bad_emails_and_passwords_out_of_length_are_refused_with_their_codes(pool: PgPool) {
    let app = spawn_app(pool).await;
    let cases = [
        ("not-an-email", PASSWORD, "invalid_email"),
        ("ada@example.org", "short", "invalid_password"),
        ("ada@example.org", &"x".repeat(129), "invalid_password"),
    ];
    for (email, password, expected) in cases {
        let refused = app
            .client
            .clone()
            .register(pb::RegisterRequest { email: email.into(), password: password.into() })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{email} / {} chars", password.len());
        assert_eq!(code(&refused), expected);
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.register("ada@example.org").await;
    let wrong_password = app.login("ada@example.org", "not the password").await.unwrap_err();
    let unknown_email = app.login("nobody@example.org", PASSWORD).await.unwrap_err();
    for refused in [&wrong_password, &unknown_email] {
        assert_eq!(refused.code(), tonic::Code::Unauthenticated);
        assert_eq!(code(refused), "invalid_credentials");
    }
    assert_eq!(wrong_password.message(), unknown_email.message());
    assert!(app.login("ADA@example.org", PASSWORD).await.is_ok(), "sign-in normalises the email too");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn me_needs_a_token(pool: PgPool) {
    let app = spawn_app(pool).await;
    let refused = app.client.clone().me(pb::MeRequest {}).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert_eq!(code(&refused), "unauthenticated");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn the_request_id_a_caller_sends_comes_back_and_one_is_made_when_missing(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut request = tonic::Request::new(pb::GetJwksRequest {});
    request.metadata_mut().insert("x-request-id", "trace-me-42".parse().unwrap());
    let response = app.client.clone().get_jwks(request).await.unwrap();
    assert_eq!(response.metadata().get("x-request-id").unwrap(), "trace-me-42");

    let response = app.client.clone().get_jwks(pb::GetJwksRequest {}).await.unwrap();
    let made = response.metadata().get("x-request-id").expect("an id is assigned").to_str().unwrap();
    assert!(uuid::Uuid::parse_str(made).is_ok(), "{made}");
}
