//! Expensive work is bounded: registrations per address, and argon2 hashes at once.

use ottr_proto::auth::v1::{LoginRequest, RegisterRequest};
use ottr_runtime::token::Role;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, code, from, spawn_app_with};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn registrations_are_throttled_per_address_not_for_everyone(pool: PgPool) {
    let app = spawn_app_with(pool, |k| k.auth.throttle.max_registrations_per_address = 3).await;
    for i in 0..3 {
        app.register_from("198.51.100.1", &format!("user{i}@example.org")).await.unwrap();
    }
    let refused = app.register_from("198.51.100.1", "user3@example.org").await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    assert_eq!(code(&refused), "too_many_attempts");
    assert!(refused.metadata().get("retry-after").is_some());
    // Probing for taken emails counts too, and another caller is not affected.
    let taken = app.register_from("198.51.100.2", "user0@example.org").await.unwrap_err();
    assert_eq!(code(&taken), "email_taken");
    app.register_from("198.51.100.2", "user4@example.org").await.unwrap();
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_taken_email_is_refused_without_hashing(pool: PgPool) {
    ottr_auth::create_user(&pool, "ada@example.org", PASSWORD, &[Role::Viewer]).await.unwrap();
    // One hash at a time and no queueing: had these hashed, most would be server_busy.
    let app = spawn_app_with(pool, |k| {
        k.auth.hashing.max_concurrent = 1;
        k.auth.hashing.queue_timeout_ms = 0;
    })
    .await;
    let answers = app
        .refused_at_once(20, |mut client, address| async move {
            let again = RegisterRequest { email: "ada@example.org".into(), password: PASSWORD.into() };
            client.register(from(&address, again)).await
        })
        .await;
    for answer in answers {
        assert_eq!(code(&answer), "email_taken");
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn hashing_beyond_the_bound_answers_server_busy_with_a_retry_after(pool: PgPool) {
    // One hash at a time and no queueing: of 20 sign-ins at once, most find it taken.
    // The account allows exactly these 20, so one more is refused unless busy ones are
    // given back.
    let app = spawn_app_with(pool, |k| {
        k.auth.throttle.max_failures_per_account = 20;
        k.auth.hashing.max_concurrent = 1;
        k.auth.hashing.queue_timeout_ms = 0;
    })
    .await;
    let answers = app
        .refused_at_once(20, |mut client, address| async move {
            let login = LoginRequest { email: "nobody@example.org".into(), password: "wrong password".into() };
            client.login(from(&address, login)).await
        })
        .await;
    let busy: Vec<_> = answers.iter().filter(|a| code(a) == "server_busy").collect();
    let checked = answers.iter().filter(|a| code(a) == "invalid_credentials").count();
    assert!(!busy.is_empty() && checked >= 1, "busy {}, checked {checked}", busy.len());
    assert_eq!(busy.len() + checked, 20, "every answer is one of the two");
    assert_eq!(busy[0].code(), tonic::Code::ResourceExhausted);
    assert_eq!(busy[0].metadata().get("retry-after").unwrap().to_str().unwrap(), "1");
    // Busy attempts were given back, so the account holds only the checked ones.
    let next = app.login_from("203.0.113.99", "nobody@example.org", "wrong password").await.unwrap_err();
    assert_eq!(code(&next), "invalid_credentials", "not charged for the {} busy ones", busy.len());
}
