//! Failed sign-ins are throttled per account and per client address, through Redis, and
//! sign-in keeps working when Redis is away.

use sqlx::PgPool;

use crate::helpers::{PASSWORD, code, spawn_app, spawn_app_with};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn ten_failures_lock_the_account_with_a_retry_after_even_for_the_right_password(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.register("ada@example.org").await;
    for attempt in 1..=10 {
        let refused = app.login("ada@example.org", "wrong password").await.unwrap_err();
        assert_eq!(code(&refused), "invalid_credentials", "attempt {attempt}");
    }
    let locked = app.login("ada@example.org", PASSWORD).await.unwrap_err();
    assert_eq!(locked.code(), tonic::Code::ResourceExhausted);
    assert_eq!(code(&locked), "too_many_attempts");
    let retry_after: i64 = locked.metadata().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");

    // Another account from the same address is not locked by this one's failures.
    app.register("bob@example.org").await;
    assert!(app.login("bob@example.org", PASSWORD).await.is_ok());
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn one_address_failing_across_many_accounts_is_throttled(pool: PgPool) {
    let app = spawn_app_with(pool, |k| k.auth.throttle.max_failures_per_address = 4).await;
    for i in 0..4 {
        let refused = app.login(&format!("guess{i}@example.org"), "password1").await.unwrap_err();
        assert_eq!(code(&refused), "invalid_credentials");
    }
    let throttled = app.login("guess9@example.org", "password1").await.unwrap_err();
    assert_eq!(code(&throttled), "too_many_attempts");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_success_clears_the_account_counter(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.register("ada@example.org").await;
    for _ in 0..9 {
        app.login("ada@example.org", "wrong password").await.unwrap_err();
    }
    app.login("ada@example.org", PASSWORD).await.unwrap();
    for _ in 0..9 {
        let refused = app.login("ada@example.org", "wrong password").await.unwrap_err();
        assert_eq!(code(&refused), "invalid_credentials");
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn sign_in_still_works_when_redis_is_unreachable(pool: PgPool) {
    // A port nothing listens on: the real "Redis went away" case.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(pool, |k| k.redis.url = format!("redis://127.0.0.1:{closed}").into()).await;
    app.register("ada@example.org").await;
    let refused = app.login("ada@example.org", "wrong password").await.unwrap_err();
    assert_eq!(code(&refused), "invalid_credentials");
    assert!(app.login("ada@example.org", PASSWORD).await.is_ok());
}
