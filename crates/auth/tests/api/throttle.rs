//! Failed sign-ins are throttled per account and per client address (the caller's, as the
//! edge names it), through Redis, without races, and sign-in keeps working when Redis is away.

use ottr_proto::auth::v1::LoginRequest;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, code, from, spawn_app, spawn_app_with};

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

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn failures_from_one_address_never_throttle_another_behind_the_same_edge(pool: PgPool) {
    let app = spawn_app_with(pool, |k| k.auth.throttle.max_failures_per_address = 4).await;
    app.register("ada@example.org").await;
    for i in 0..4 {
        let refused = app.login_from("198.51.100.1", &format!("guess{i}@example.org"), "password1").await.unwrap_err();
        assert_eq!(code(&refused), "invalid_credentials");
    }
    let throttled = app.login_from("198.51.100.1", "ada@example.org", PASSWORD).await.unwrap_err();
    assert_eq!(code(&throttled), "too_many_attempts", "address A is at its limit");
    // Same transport peer (loopback, as the edge is), another caller: untouched.
    assert!(app.login_from("198.51.100.2", "ada@example.org", PASSWORD).await.is_ok());
    // X-Forwarded-For from a trusted hop names the caller as well.
    let mut forwarded =
        tonic::Request::new(LoginRequest { email: "ada@example.org".into(), password: PASSWORD.into() });
    forwarded.metadata_mut().insert("x-forwarded-for", "198.51.100.9, 127.0.0.1".parse().unwrap());
    assert!(app.client.clone().login(forwarded).await.is_ok());
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn thirty_parallel_wrong_guesses_reach_the_password_check_at_most_ten_times(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.register("ada@example.org").await;
    let answers = app
        .refused_at_once(30, |mut client, address| async move {
            let guess = LoginRequest { email: "ada@example.org".into(), password: "wrong password".into() };
            client.login(from(&address, guess)).await
        })
        .await;
    let checked = answers.iter().filter(|a| code(a) == "invalid_credentials").count();
    let throttled = answers.iter().filter(|a| code(a) == "too_many_attempts").count();
    assert_eq!((checked, throttled), (10, 20), "the limit holds under a race");
    let locked = app.login("ada@example.org", PASSWORD).await.unwrap_err();
    assert_eq!(code(&locked), "too_many_attempts", "the right password is refused too");
}
