//! Accounts through the edge, against the real services: a password change, a disabled and
//! a deleted account end their sessions at once for every service (the catalog refuses
//! their tokens on the very next call), and a TV signs in with RFC 8628's device flow over
//! gRPC-web, native gRPC and REST while a viewer approves on REST.

use ottr_proto::{
    auth::v1::{self as auth_pb, auth_service_client::AuthServiceClient},
    prost::Message,
};
use ottr_runtime::token::Role;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{
    grpc::{frame, frames},
    helpers::{Stack, spawn_stack},
};

const PASSWORD: &str = "a fine passphrase";

/// A fresh sign-in's whole session (access and refresh tokens).
async fn sign_in(stack: &Stack, email: &str, password: &str) -> reqwest::Response {
    stack
        .http
        .post(stack.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn session(stack: &Stack, email: &str) -> Value {
    let response = sign_in(stack, email, PASSWORD).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn refresh(stack: &Stack, session: &Value) -> reqwest::Response {
    let body = json!({"refresh_token": session["refresh_token"]});
    stack.http.post(stack.url("/api/v1/auth/refresh")).json(&body).send().await.unwrap()
}

fn token(session: &Value) -> &str {
    session["access_token"].as_str().unwrap()
}

/// The catalog's ListProfiles through the edge: another service than auth, verifying the
/// token itself.
async fn profiles(stack: &Stack, token: &str) -> reqwest::Response {
    stack.authed(Method::GET, "/api/v1/profiles", token).send().await.unwrap()
}

/// The status and the `{ code }` of an answer.
async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_password_change_ends_the_other_sessions_everywhere_at_once_and_keeps_the_callers(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    stack.viewer().await;
    let laptop = session(&stack, "viewer@example.org").await;
    let phone = session(&stack, "viewer@example.org").await;
    assert_eq!(profiles(&stack, token(&phone)).await.status(), 200);

    let change = |current: &str| {
        let body = json!({"current_password": current, "new_password": "another fine passphrase"});
        stack.authed(Method::PUT, "/api/v1/me/password", token(&laptop)).json(&body).send()
    };
    assert_eq!(refusal(change("wrong password").await.unwrap()).await, (401, "invalid_credentials".into()));
    let changed = change(PASSWORD).await.unwrap();
    assert_eq!(changed.status(), 200);
    assert_eq!(changed.json::<Value>().await.unwrap()["sessions_ended"], 2, "the registration's and the phone's");

    assert_eq!(refusal(profiles(&stack, token(&phone)).await).await, (401, "token_invalid".into()));
    assert_eq!(refusal(refresh(&stack, &phone).await).await, (401, "invalid_refresh_token".into()));
    assert_eq!(profiles(&stack, token(&laptop)).await.status(), 200, "the caller's session stays");
    assert_eq!(refresh(&stack, &laptop).await.status(), 200);
    assert_eq!(
        refusal(sign_in(&stack, "viewer@example.org", PASSWORD).await).await,
        (401, "invalid_credentials".into())
    );
    assert_eq!(sign_in(&stack, "viewer@example.org", "another fine passphrase").await.status(), 200);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_disabled_account_is_refused_at_once_and_signs_in_again_once_enabled(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    ottr_auth::create_user(&pool, "admin@example.org", PASSWORD, &[Role::Admin]).await.unwrap();
    let admin = session(&stack, "admin@example.org").await;
    stack.viewer().await;
    let viewer = session(&stack, "viewer@example.org").await;
    let id = viewer["user"]["id"].as_str().unwrap().to_owned();
    let set = |who: &Value, id: &str, disabled: bool| {
        let path = format!("/api/v1/users/{id}/disabled");
        stack.authed(Method::PUT, &path, token(who)).json(&json!({"disabled": disabled})).send()
    };

    assert_eq!(refusal(set(&viewer, &id, true).await.unwrap()).await, (403, "permission_denied".into()));
    let disabled = set(&admin, &id, true).await.unwrap();
    assert_eq!(disabled.status(), 200);
    assert_eq!(disabled.json::<Value>().await.unwrap()["disabled"], true);

    assert_eq!(refusal(profiles(&stack, token(&viewer)).await).await, (401, "token_invalid".into()));
    assert_eq!(refusal(sign_in(&stack, "viewer@example.org", PASSWORD).await).await, (403, "account_disabled".into()));
    assert_eq!(refusal(refresh(&stack, &viewer).await).await, (403, "account_disabled".into()));
    let admin_id = admin["user"]["id"].as_str().unwrap();
    assert_eq!(refusal(set(&admin, admin_id, true).await.unwrap()).await, (409, "cannot_disable_self".into()));

    assert_eq!(set(&admin, &id, false).await.unwrap().status(), 200);
    let again = session(&stack, "viewer@example.org").await;
    assert_eq!(profiles(&stack, token(&again)).await.status(), 200);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn deleting_ones_account_needs_the_password_erases_its_catalog_data_and_ends_its_tokens_at_once(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    stack.viewer().await;
    let viewer = session(&stack, "viewer@example.org").await;
    let account: uuid::Uuid = viewer["user"]["id"].as_str().unwrap().parse().unwrap();
    let created = stack.authed(Method::POST, "/api/v1/profiles", token(&viewer)).json(&json!({"name": "Me"}));
    assert_eq!(created.send().await.unwrap().status(), 200);
    let kept =
        || sqlx::query_scalar::<_, i64>("SELECT count(*) FROM catalog.profiles WHERE account_id = $1").bind(account);
    let delete = |password: &str| {
        stack.authed(Method::DELETE, "/api/v1/me", token(&viewer)).json(&json!({"password": password})).send()
    };
    assert_eq!(refusal(delete("wrong password").await.unwrap()).await, (401, "invalid_credentials".into()));
    assert_eq!(profiles(&stack, token(&viewer)).await.status(), 200, "a refusal deletes nothing");

    assert_eq!(kept().fetch_one(&pool).await.unwrap(), 1);

    assert_eq!(delete(PASSWORD).await.unwrap().status(), 204);
    assert_eq!(kept().fetch_one(&pool).await.unwrap(), 0, "the catalog erased the account's profiles");
    assert_eq!(refusal(profiles(&stack, token(&viewer)).await).await, (401, "token_invalid".into()));
    let me = stack.authed(Method::GET, "/api/v1/me", token(&viewer)).send().await.unwrap();
    assert_eq!(refusal(me).await, (401, "token_invalid".into()));
    assert_eq!(
        refusal(sign_in(&stack, "viewer@example.org", PASSWORD).await).await,
        (401, "invalid_credentials".into())
    );
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_tv_signs_in_once_with_the_device_flow_while_the_viewer_approves_on_the_web(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let viewer = stack.viewer().await;

    // The TV asks for codes over gRPC-web, as a browser-based TV app does.
    let response = stack
        .http
        .post(stack.url("/ottr.auth.v1.AuthService/StartDeviceAuthorization"))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .body(frame(&auth_pb::StartDeviceAuthorizationRequest {}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (data, trailers) = frames(&response.bytes().await.unwrap());
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    let device = auth_pb::DeviceAuthorization::decode(data[0].as_slice()).unwrap();
    assert!(device.verification_uri.ends_with("/#/activate"), "{}", device.verification_uri);
    assert_eq!(device.interval, 5);

    // It polls over native gRPC through the edge: nobody has approved yet.
    let grpc = AuthServiceClient::connect(stack.edge.clone()).await.unwrap();
    let poll_grpc = |mut grpc: AuthServiceClient<_>| {
        let request = auth_pb::PollDeviceTokenRequest { device_code: device.device_code.clone() };
        async move { grpc.poll_device_token(request).await }
    };
    let pending = poll_grpc(grpc.clone()).await.unwrap_err();
    assert_eq!(ottr_testkit::code(&pending), "authorization_pending");
    // And over REST, too soon.
    let poll_rest =
        || stack.http.post(stack.url("/api/v1/device/token")).json(&json!({"device_code": device.device_code})).send();
    assert_eq!(refusal(poll_rest().await.unwrap()).await, (400, "slow_down".into()));

    // The viewer types the code on the web app, in lower case, without the dash.
    let approve = |code: &str| {
        let body = json!({"user_code": code});
        stack.authed(Method::POST, "/api/v1/device/approve", &viewer).json(&body).send()
    };
    assert_eq!(refusal(approve("BBBB-BBBB").await.unwrap()).await, (404, "invalid_user_code".into()));
    let typed = device.user_code.replace('-', "").to_lowercase();
    assert_eq!(approve(&typed).await.unwrap().status(), 204);

    let signed_in = poll_rest().await.unwrap();
    assert_eq!(signed_in.status(), 200);
    let tv: Value = signed_in.json().await.unwrap();
    assert_eq!(tv["user"]["email"], "viewer@example.org");
    assert_eq!(profiles(&stack, token(&tv)).await.status(), 200, "the TV's own session works");
    assert_eq!(refusal(poll_rest().await.unwrap()).await, (400, "invalid_device_code".into()), "exactly once");
    let again = poll_grpc(grpc.clone()).await.unwrap_err();
    assert_eq!(ottr_testkit::code(&again), "invalid_device_code");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn the_studio_looks_up_who_accounts_are_and_viewers_cannot(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let viewer = stack.viewer().await;
    let me: Value = stack.authed(Method::GET, "/api/v1/me", &viewer).send().await.unwrap().json().await.unwrap();
    let ids = format!("{},{}", me["id"].as_str().unwrap(), uuid::Uuid::new_v4());
    let path = format!("/api/v1/users?ids={ids}");

    let found: Value = stack.authed(Method::GET, &path, &stack.editor).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["users"], json!([{"id": me["id"], "email": "viewer@example.org"}]));
    assert_eq!(
        refusal(stack.authed(Method::GET, &path, &viewer).send().await.unwrap()).await,
        (403, "permission_denied".into())
    );
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn the_account_routes_are_in_the_openapi_document(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let doc: Value = stack.http.get(stack.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let paths = &doc["paths"];
    for (path, method) in [
        ("/api/v1/me/password", "put"),
        ("/api/v1/me", "delete"),
        ("/api/v1/users/{id}/disabled", "put"),
        ("/api/v1/users", "get"),
        ("/api/v1/device/code", "post"),
        ("/api/v1/device/token", "post"),
        ("/api/v1/device/approve", "post"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path} is missing");
    }
}
