//! Refresh-token rotation, reuse detection (with a grace window for racing tabs) and logout.

use ottr_proto::auth::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{TestApp, bearer, code, spawn_app, spawn_app_with};

async fn refresh(app: &TestApp, token: &str) -> Result<pb::Session, tonic::Status> {
    app.client
        .clone()
        .refresh(pb::RefreshRequest { refresh_token: token.into() })
        .await
        .map(tonic::Response::into_inner)
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_refresh_token_is_exchanged_once_for_a_new_pair(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let first = app.register("ada@example.org").await;
    let second = refresh(&app, &first.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token, "rotated on use");
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(second.user.unwrap().email, "ada@example.org");
    let third = refresh(&app, &second.refresh_token).await.unwrap();
    assert_ne!(third.refresh_token, second.refresh_token);

    // Stored as hashes only: the plain token is nowhere in the table.
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT token_hash FROM auth.refresh_tokens").fetch_all(&pool).await.unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|h| h.len() == 32 && *h != third.refresh_token.as_bytes()));
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn reusing_a_spent_refresh_token_revokes_the_whole_family(pool: PgPool) {
    let app = spawn_app_with(pool, |k| k.auth.refresh_grace_secs = 0).await;
    let stolen = app.register("ada@example.org").await;
    let legit = refresh(&app, &stolen.refresh_token).await.unwrap();

    let replay = refresh(&app, &stolen.refresh_token).await.unwrap_err();
    assert_eq!(replay.code(), tonic::Code::Unauthenticated);
    assert_eq!(code(&replay), "refresh_token_reused");

    // The legitimate holder's newer token died with the family.
    let after = refresh(&app, &legit.refresh_token).await.unwrap_err();
    assert_eq!(code(&after), "invalid_refresh_token");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn reuse_revokes_only_that_family_not_other_sign_ins(pool: PgPool) {
    let app = spawn_app_with(pool, |k| k.auth.refresh_grace_secs = 0).await;
    let phone = app.register("ada@example.org").await;
    let laptop = app.login("ada@example.org", crate::helpers::PASSWORD).await.unwrap();
    refresh(&app, &phone.refresh_token).await.unwrap();
    refresh(&app, &phone.refresh_token).await.unwrap_err();
    assert!(refresh(&app, &laptop.refresh_token).await.is_ok(), "another login is another family");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn logout_revokes_the_family_and_an_unknown_token_is_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    let first = app.register("ada@example.org").await;
    let second = refresh(&app, &first.refresh_token).await.unwrap();
    app.client.clone().logout(pb::LogoutRequest { refresh_token: first.refresh_token.clone() }).await.unwrap();
    let after = refresh(&app, &second.refresh_token).await.unwrap_err();
    assert_eq!(code(&after), "invalid_refresh_token");

    let unknown = refresh(&app, "not-a-token").await.unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::Unauthenticated);
    assert_eq!(code(&unknown), "invalid_refresh_token");
}

/// Ages the stored refresh tokens with `statement` (an UPDATE of auth.refresh_tokens),
/// standing in for the time that would pass.
async fn age_tokens(pool: &PgPool, statement: &'static str) {
    sqlx::query(statement).execute(pool).await.unwrap();
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_expired_refresh_token_is_refused(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let session = app.register("ada@example.org").await;
    age_tokens(&pool, "UPDATE auth.refresh_tokens SET expires_at = now() - interval '1 second'").await;
    let refused = refresh(&app, &session.refresh_token).await.unwrap_err();
    assert_eq!(code(&refused), "invalid_refresh_token");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_role_change_reaches_the_next_access_token_through_refresh(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let session = app.register("ada@example.org").await;
    sqlx::query("UPDATE auth.users SET roles = ARRAY['viewer', 'editor']").execute(&pool).await.unwrap();
    let refreshed = refresh(&app, &session.refresh_token).await.unwrap();
    let roles = refreshed.user.unwrap().roles;
    assert_eq!(roles, vec![pb::Role::Viewer as i32, pb::Role::Editor as i32]);
}

/// Proves a session works: its access token is accepted and its refresh token exchanges.
async fn assert_working(app: &TestApp, session: &pb::Session) {
    let me = app.client.clone().me(bearer(pb::MeRequest {}, &session.access_token)).await;
    assert!(me.is_ok(), "access token accepted");
    assert!(refresh(app, &session.refresh_token).await.is_ok(), "refresh token exchanges");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn two_tabs_refreshing_with_one_token_at_the_same_moment_both_stay_signed_in(pool: PgPool) {
    let app = spawn_app(pool).await;
    let first = app.register("ada@example.org").await;
    let (left, right) = tokio::join!(refresh(&app, &first.refresh_token), refresh(&app, &first.refresh_token));
    let (left, right) = (left.unwrap(), right.unwrap());
    assert_ne!(left.refresh_token, right.refresh_token);
    assert_working(&app, &left).await;
    assert_working(&app, &right).await;
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_token_presented_again_within_the_window_stays_in_its_family(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let first = app.register("ada@example.org").await;
    let second = refresh(&app, &first.refresh_token).await.unwrap();
    let again = refresh(&app, &first.refresh_token).await.unwrap();
    let families: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT family_id) FROM auth.refresh_tokens").fetch_one(&pool).await.unwrap();
    assert_eq!(families, 1);
    // Logging out with either ends both: they are one sign-in.
    app.client.clone().logout(pb::LogoutRequest { refresh_token: again.refresh_token.clone() }).await.unwrap();
    assert_eq!(code(&refresh(&app, &second.refresh_token).await.unwrap_err()), "invalid_refresh_token");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn reuse_after_the_grace_window_still_revokes_the_family(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let stolen = app.register("ada@example.org").await;
    let legit = refresh(&app, &stolen.refresh_token).await.unwrap();
    // The exchange happened 31 s ago, past the default 30 s window.
    age_tokens(
        &pool,
        "UPDATE auth.refresh_tokens SET used_at = used_at - interval '31 seconds' WHERE used_at IS NOT NULL",
    )
    .await;
    let replay = refresh(&app, &stolen.refresh_token).await.unwrap_err();
    assert_eq!(code(&replay), "refresh_token_reused");
    assert_eq!(code(&refresh(&app, &legit.refresh_token).await.unwrap_err()), "invalid_refresh_token");
}
