//! Deleting one's own account: its password again, then the account, its sessions and their
//! access tokens are gone at once.

use ottr_proto::auth::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, TestApp, bearer, code, spawn_app};

async fn delete(app: &TestApp, token: &str, password: &str, check_only: bool) -> Result<String, tonic::Status> {
    let request = pb::DeleteAccountRequest { password: password.into(), check_only };
    Ok(app.client.clone().delete_account(bearer(request, token)).await?.into_inner().user_id)
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_deleted_account_cannot_sign_in_and_its_tokens_stop_at_once(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let session = app.register("ada@example.org").await;
    let other = app.login("ada@example.org", PASSWORD).await.unwrap();
    let id = session.user.clone().unwrap().id;

    let wrong = delete(&app, &session.access_token, "wrong password", false).await.unwrap_err();
    assert_eq!(code(&wrong), "invalid_credentials");
    assert_eq!(delete(&app, &session.access_token, PASSWORD, true).await.unwrap(), id, "checked only");
    assert!(app.me(&session.access_token).await.is_ok(), "a check deletes nothing");

    assert_eq!(delete(&app, &session.access_token, PASSWORD, false).await.unwrap(), id);
    let catalog = app.other_service();
    for gone in [&session, &other] {
        assert!(catalog.verify(&gone.access_token).await.is_err(), "refused by other services at once");
        assert_eq!(code(&app.me(&gone.access_token).await.unwrap_err()), "token_invalid");
        assert_eq!(code(&app.refresh(&gone.refresh_token).await.unwrap_err()), "invalid_refresh_token");
    }
    assert_eq!(code(&app.login("ada@example.org", PASSWORD).await.unwrap_err()), "invalid_credentials");
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM auth.users) + (SELECT count(*) FROM auth.refresh_families)
              + (SELECT count(*) FROM auth.refresh_tokens)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, 0, "nothing of the account is left in auth");
    // The email is free again.
    app.register("ada@example.org").await;
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn deleting_needs_a_token_and_one_account_cannot_delete_another(pool: PgPool) {
    let app = spawn_app(pool).await;
    let ada = app.register("ada@example.org").await;
    app.register("bob@example.org").await;
    let anonymous = app
        .client
        .clone()
        .delete_account(pb::DeleteAccountRequest { password: PASSWORD.into(), check_only: false })
        .await
        .unwrap_err();
    assert_eq!(code(&anonymous), "unauthenticated");
    // The token names the account: Ada's deletes Ada, never Bob, even with Bob's password.
    delete(&app, &ada.access_token, PASSWORD, false).await.unwrap();
    assert!(app.login("bob@example.org", PASSWORD).await.is_ok());
}
