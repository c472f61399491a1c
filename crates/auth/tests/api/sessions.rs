//! Refresh-token rotation, reuse detection and logout.

use ottr_proto::auth::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{TestApp, code, spawn_app};

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
    let app = spawn_app(pool).await;
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
    let app = spawn_app(pool).await;
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

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_expired_refresh_token_is_refused(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let session = app.register("ada@example.org").await;
    sqlx::query("UPDATE auth.refresh_tokens SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
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
