//! The admin-only RPCs: ListUsers, SetRoles, RotateSigningKey.

use ottr_proto::auth::v1 as pb;
use ottr_runtime::token::Role;
use sqlx::PgPool;

use crate::helpers::{bearer, code, spawn_app};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn viewers_and_editors_are_refused_the_admin_rpcs(pool: PgPool) {
    let app = spawn_app(pool).await;
    let viewer = app.register("viewer@example.org").await;
    let editor = app.signed_in_with("editor@example.org", &[Role::Editor]).await;
    for session in [&viewer, &editor] {
        let token = &session.access_token;
        let mut client = app.client.clone();
        let refusals = [
            client.list_users(bearer(pb::ListUsersRequest::default(), token)).await.unwrap_err(),
            client
                .set_roles(bearer(
                    pb::SetRolesRequest {
                        user_id: session.user.clone().unwrap().id,
                        roles: vec![pb::Role::Admin as i32],
                    },
                    token,
                ))
                .await
                .unwrap_err(),
            client.rotate_signing_key(bearer(pb::RotateSigningKeyRequest {}, token)).await.unwrap_err(),
        ];
        for refused in refusals {
            assert_eq!(refused.code(), tonic::Code::PermissionDenied);
            assert_eq!(code(&refused), "permission_denied");
        }
    }
    let anonymous = app.client.clone().list_users(pb::ListUsersRequest::default()).await.unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_admin_pages_through_every_user_exactly_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let admin = app.signed_in_with("admin@example.org", &[Role::Admin]).await;
    for i in 0..6 {
        app.register(&format!("user{i}@example.org")).await;
    }
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = app
            .client
            .clone()
            .list_users(bearer(pb::ListUsersRequest { page_size: 3, page_token }, &admin.access_token))
            .await
            .unwrap()
            .into_inner();
        assert!(page.users.len() <= 3);
        seen.extend(page.users.into_iter().map(|u| u.email));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(seen[0], "admin@example.org", "oldest first");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7, "no user twice: {seen:?}");

    let bad = app
        .client
        .clone()
        .list_users(bearer(pb::ListUsersRequest { page_size: 3, page_token: "garbage".into() }, &admin.access_token))
        .await
        .unwrap_err();
    assert_eq!(code(&bad), "invalid_argument");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_admin_sets_roles_and_the_user_signs_in_with_them(pool: PgPool) {
    let app = spawn_app(pool).await;
    let admin = app.signed_in_with("admin@example.org", &[Role::Admin]).await;
    let viewer = app.register("ada@example.org").await.user.unwrap();
    let updated = app
        .client
        .clone()
        .set_roles(bearer(
            pb::SetRolesRequest {
                user_id: viewer.id.clone(),
                roles: vec![pb::Role::Editor as i32, pb::Role::Viewer as i32, pb::Role::Editor as i32],
            },
            &admin.access_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.roles, vec![pb::Role::Viewer as i32, pb::Role::Editor as i32], "sorted, no repeats");
    let again = app.login("ada@example.org", crate::helpers::PASSWORD).await.unwrap();
    assert_eq!(again.user.unwrap().roles, updated.roles);

    let mut client = app.client.clone();
    let empty = client
        .set_roles(bearer(pb::SetRolesRequest { user_id: viewer.id.clone(), roles: vec![] }, &admin.access_token))
        .await
        .unwrap_err();
    assert_eq!(code(&empty), "invalid_role");
    let unspecified = client
        .set_roles(bearer(pb::SetRolesRequest { user_id: viewer.id, roles: vec![0] }, &admin.access_token))
        .await
        .unwrap_err();
    assert_eq!(code(&unspecified), "invalid_role");
    let nobody = client
        .set_roles(bearer(
            pb::SetRolesRequest { user_id: uuid::Uuid::new_v4().to_string(), roles: vec![pb::Role::Viewer as i32] },
            &admin.access_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(nobody.code(), tonic::Code::NotFound);
    assert_eq!(code(&nobody), "user_not_found");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn the_only_admin_can_neither_step_down_nor_leave_and_two_cannot_demote_each_other(pool: PgPool) {
    let app = spawn_app(pool).await;
    let ada = app.signed_in_with("ada@example.org", &[Role::Admin]).await;
    let ada_id = ada.user.clone().unwrap().id;
    let set = |token: String, user_id: String, role: pb::Role| {
        let mut client = app.client.clone();
        async move {
            let request = pb::SetRolesRequest { user_id, roles: vec![role as i32] };
            client.set_roles(bearer(request, &token)).await.map(tonic::Response::into_inner)
        }
    };

    let down = set(ada.access_token.clone(), ada_id.clone(), pb::Role::Editor).await.unwrap_err();
    assert_eq!((down.code(), code(&down)), (tonic::Code::FailedPrecondition, "last_admin"));
    for check_only in [true, false] {
        let request = pb::DeleteAccountRequest { password: crate::helpers::PASSWORD.into(), check_only };
        let leave = app.client.clone().delete_account(bearer(request, &ada.access_token)).await.unwrap_err();
        assert_eq!(code(&leave), "last_admin", "check_only: {check_only}");
    }
    assert_eq!(app.me(&ada.access_token).await.unwrap().roles, vec![pb::Role::Admin as i32], "nothing changed");

    // With a second admin, either may step down, but not both at once.
    let bob = app.signed_in_with("bob@example.org", &[Role::Admin]).await;
    let bob_id = bob.user.clone().unwrap().id;
    let (bob_demoted, ada_demoted) = tokio::join!(
        set(ada.access_token.clone(), bob_id.clone(), pb::Role::Viewer),
        set(bob.access_token.clone(), ada_id.clone(), pb::Role::Viewer),
    );
    let refused: Vec<_> = [&bob_demoted, &ada_demoted].into_iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(refused.len(), 1, "exactly one wins: {bob_demoted:?} {ada_demoted:?}");
    // The loser's call is refused as the last admin's, or, when the winner's demotion (which
    // ends the loser's sessions) was committed before the call was checked, for its token.
    assert!(["last_admin", "token_invalid"].contains(&code(refused[0])), "{:?}", refused[0]);
    let (winner, winner_id, loser) = if ada_demoted.is_ok() { (&bob, &bob_id, &ada) } else { (&ada, &ada_id, &bob) };
    assert_eq!(app.me(&winner.access_token).await.unwrap().roles, vec![pb::Role::Admin as i32]);

    // The demoted one's access token names the admin role until it expires, so demotion ends
    // its sessions at once: it can neither take the role back nor disable the last admin.
    let back = set(loser.access_token.clone(), loser.user.clone().unwrap().id, pb::Role::Admin).await.unwrap_err();
    assert_eq!(code(&back), "token_invalid");
    let disable = pb::SetDisabledRequest { user_id: winner_id.clone(), disabled: true };
    let refused = app.client.clone().set_disabled(bearer(disable, &loser.access_token)).await.unwrap_err();
    assert_eq!(code(&refused), "token_invalid");
    assert!(app.me(&winner.access_token).await.is_ok(), "the last admin is still enabled and signed in");

    // A disabled admin does not count as the other admin.
    let carol = app.signed_in_with("carol@example.org", &[Role::Admin]).await;
    let carol_id = carol.user.clone().unwrap().id;
    let disable = pb::SetDisabledRequest { user_id: carol_id, disabled: true };
    app.client.clone().set_disabled(bearer(disable, &winner.access_token)).await.unwrap();
    let down = set(winner.access_token.clone(), winner_id.clone(), pb::Role::Viewer).await.unwrap_err();
    assert_eq!(code(&down), "last_admin");
}
