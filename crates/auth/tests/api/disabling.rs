//! An admin disables and enables accounts: a disabled one cannot sign in or refresh, and its
//! sessions end at once.

use ottr_proto::auth::v1 as pb;
use ottr_runtime::token::Role;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, TestApp, bearer, code, spawn_app};

async fn set_disabled(app: &TestApp, token: &str, user_id: &str, disabled: bool) -> Result<pb::User, tonic::Status> {
    let request = pb::SetDisabledRequest { user_id: user_id.into(), disabled };
    app.client.clone().set_disabled(bearer(request, token)).await.map(tonic::Response::into_inner)
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_disabled_account_cannot_sign_in_or_refresh_and_its_tokens_stop_at_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let admin = app.signed_in_with("admin@example.org", &[Role::Admin]).await;
    let ada = app.register("ada@example.org").await;
    let id = ada.user.clone().unwrap().id;
    let catalog = app.other_service();

    let user = set_disabled(&app, &admin.access_token, &id, true).await.unwrap();
    assert!(user.disabled);
    assert!(catalog.verify(&ada.access_token).await.is_err(), "refused by other services at once");
    assert_eq!(code(&app.me(&ada.access_token).await.unwrap_err()), "token_invalid");

    let refused = app.login("ada@example.org", PASSWORD).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert_eq!(code(&refused), "account_disabled");
    let guess = app.login("ada@example.org", "wrong password").await.unwrap_err();
    assert_eq!(code(&guess), "invalid_credentials", "only the password's holder learns it is disabled");
    assert_eq!(code(&app.refresh(&ada.refresh_token).await.unwrap_err()), "account_disabled");

    let listed = app
        .client
        .clone()
        .list_users(bearer(pb::ListUsersRequest::default(), &admin.access_token))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.users.iter().any(|u| u.id == id && u.disabled));

    assert!(!set_disabled(&app, &admin.access_token, &id, false).await.unwrap().disabled);
    let again = app.login("ada@example.org", PASSWORD).await.unwrap();
    assert!(catalog.verify(&again.access_token).await.is_ok());
    assert_eq!(
        code(&app.refresh(&ada.refresh_token).await.unwrap_err()),
        "invalid_refresh_token",
        "sessions ended by the disabling stay ended"
    );
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn only_admins_disable_and_never_themselves(pool: PgPool) {
    let app = spawn_app(pool).await;
    let admin = app.signed_in_with("admin@example.org", &[Role::Admin]).await;
    let editor = app.signed_in_with("editor@example.org", &[Role::Editor]).await;
    let admin_id = admin.user.clone().unwrap().id;

    let own = set_disabled(&app, &admin.access_token, &admin_id, true).await.unwrap_err();
    assert_eq!(own.code(), tonic::Code::FailedPrecondition);
    assert_eq!(code(&own), "cannot_disable_self");
    assert!(app.me(&admin.access_token).await.is_ok());

    let by_editor = set_disabled(&app, &editor.access_token, &admin_id, true).await.unwrap_err();
    assert_eq!(code(&by_editor), "permission_denied");
    let nobody = set_disabled(&app, &admin.access_token, &uuid::Uuid::new_v4().to_string(), true).await.unwrap_err();
    assert_eq!(code(&nobody), "user_not_found");
}
