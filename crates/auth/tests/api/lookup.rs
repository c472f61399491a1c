//! LookupUsers: who accounts are, for the studio (editors and admins).

use ottr_proto::auth::v1 as pb;
use ottr_runtime::token::Role;
use sqlx::PgPool;

use crate::helpers::{TestApp, bearer, code, spawn_app};

async fn lookup(app: &TestApp, token: &str, ids: Vec<String>) -> Result<Vec<pb::UserSummary>, tonic::Status> {
    let request = pb::LookupUsersRequest { user_ids: ids };
    Ok(app.client.clone().lookup_users(bearer(request, token)).await?.into_inner().users)
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn staff_look_up_accounts_by_id_and_unknown_ones_are_left_out(pool: PgPool) {
    let app = spawn_app(pool).await;
    let editor = app.signed_in_with("editor@example.org", &[Role::Editor]).await;
    let admin = app.signed_in_with("admin@example.org", &[Role::Admin]).await;
    let ada = app.register("ada@example.org").await.user.unwrap();
    let ids = vec![ada.id.clone(), editor.user.clone().unwrap().id, uuid::Uuid::new_v4().to_string(), ada.id.clone()];

    for staff in [&editor, &admin] {
        let found = lookup(&app, &staff.access_token, ids.clone()).await.unwrap();
        let emails: Vec<_> = found.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(emails, ["ada@example.org", "editor@example.org"]);
        assert_eq!(found[0].id, ada.id);
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn viewers_are_refused_and_bad_or_too_many_ids_are_invalid(pool: PgPool) {
    let app = spawn_app(pool).await;
    let viewer = app.register("ada@example.org").await;
    let editor = app.signed_in_with("editor@example.org", &[Role::Editor]).await;
    let mine = vec![viewer.user.unwrap().id];

    let refused = lookup(&app, &viewer.access_token, mine).await.unwrap_err();
    assert_eq!(code(&refused), "permission_denied");
    let bad = lookup(&app, &editor.access_token, vec!["not-an-id".into()]).await.unwrap_err();
    assert_eq!(code(&bad), "invalid_argument");
    let many = (0..101).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    assert_eq!(code(&lookup(&app, &editor.access_token, many).await.unwrap_err()), "invalid_argument");
    assert!(lookup(&app, &editor.access_token, vec![]).await.unwrap().is_empty());
}
