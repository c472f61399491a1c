//! gRPC and gRPC-web on the edge's port: public RPCs relayed with the caller's token,
//! internal ones refused.

use ottr_proto::{
    auth::v1::{self as auth_pb, auth_service_client::AuthServiceClient},
    catalog::v1::{self as catalog_pb, catalog_service_client::CatalogServiceClient},
    media::v1::{
        self as media_pb, media_service_client::MediaServiceClient, webhook_service_client::WebhookServiceClient,
    },
    prost::Message,
};
use sqlx::PgPool;

use crate::helpers::{bearer, spawn_stack};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn native_grpc_reaches_the_public_rpcs_through_the_edge_and_not_the_internal_ones(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let mut auth = AuthServiceClient::connect(stack.edge.clone()).await.unwrap();
    let session = auth
        .register(auth_pb::RegisterRequest { email: "app@example.org".into(), password: "a fine passphrase".into() })
        .await
        .unwrap()
        .into_inner();
    let me = auth.me(bearer(auth_pb::MeRequest {}, &session.access_token)).await.unwrap().into_inner();
    assert_eq!(me.email, "app@example.org");

    let id = stack.playable_movie().await;
    let mut catalog = CatalogServiceClient::connect(stack.edge.clone()).await.unwrap();
    let title = catalog
        .get_title(catalog_pb::GetTitleRequest { id_or_slug: id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(title.id, id);

    let refused =
        auth.rotate_signing_key(bearer(auth_pb::RotateSigningKeyRequest {}, &stack.editor)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unimplemented, "key rotation is not public");
    // Half a delete would leave objects in storage or titles naming a gone asset: deletes
    // go through the edge's REST routes, which do both halves.
    let half = bearer(catalog_pb::DeleteTitleRequest { id: id.clone() }, &stack.editor);
    assert_eq!(catalog.delete_title(half).await.unwrap_err().code(), tonic::Code::Unimplemented);
    let half = bearer(catalog_pb::DeleteEpisodeRequest { id: id.clone() }, &stack.editor);
    assert_eq!(catalog.delete_episode(half).await.unwrap_err().code(), tonic::Code::Unimplemented);
    let half = bearer(catalog_pb::DetachAssetRequest { asset_id: id.clone() }, &stack.editor);
    assert_eq!(catalog.detach_asset(half).await.unwrap_err().code(), tonic::Code::Unimplemented);
    let mut media = MediaServiceClient::connect(stack.edge.clone()).await.unwrap();
    let half = bearer(media_pb::DeleteAssetRequest { asset_id: id.clone() }, &stack.editor);
    assert_eq!(media.delete_asset(half).await.unwrap_err().code(), tonic::Code::Unimplemented);
    let request = catalog_pb::GetTitleRequest { id_or_slug: id.clone(), ..Default::default() };
    assert_eq!(catalog.get_title(request).await.unwrap().into_inner().id, id, "the title is still there");

    // Webhooks are managed over gRPC too, as over REST: staff only.
    let mut webhooks = WebhookServiceClient::connect(stack.edge.clone()).await.unwrap();
    let listed = webhooks.list_webhooks(bearer(media_pb::ListWebhooksRequest {}, &stack.editor)).await.unwrap();
    assert_eq!(listed.into_inner().webhooks, vec![]);
    let viewer = webhooks.list_webhooks(bearer(media_pb::ListWebhooksRequest {}, &session.access_token)).await;
    assert_eq!(viewer.unwrap_err().code(), tonic::Code::PermissionDenied);
}

/// A gRPC-web frame: flag, big-endian length, payload.
pub fn frame(message: &impl Message) -> Vec<u8> {
    let payload = message.encode_to_vec();
    let mut out = vec![0u8];
    out.extend((payload.len() as u32).to_be_bytes());
    out.extend(payload);
    out
}

/// Splits a gRPC-web body into its data frames and its trailers.
pub fn frames(body: &[u8]) -> (Vec<Vec<u8>>, String) {
    let (mut data, mut trailers, mut at) = (Vec::new(), String::new(), 0);
    while at + 5 <= body.len() {
        let flag = body[at];
        let len = u32::from_be_bytes(body[at + 1..at + 5].try_into().unwrap()) as usize;
        let payload = body[at + 5..at + 5 + len].to_vec();
        if flag & 0x80 == 0 {
            data.push(payload)
        } else {
            trailers = String::from_utf8(payload).unwrap()
        }
        at += 5 + len;
    }
    (data, trailers)
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn grpc_web_over_http_1_1_signs_in_and_carries_error_codes_in_trailers(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    stack.viewer().await;
    let call = |method: &str, body: Vec<u8>| {
        stack
            .http
            .post(stack.url(&format!("/ottr.auth.v1.AuthService/{method}")))
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            .body(body)
            .send()
    };
    let good = auth_pb::LoginRequest { email: "viewer@example.org".into(), password: "a fine passphrase".into() };
    let response = call("Login", frame(&good)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/grpc-web"));
    let (data, trailers) = frames(&response.bytes().await.unwrap());
    let session = auth_pb::Session::decode(data[0].as_slice()).unwrap();
    assert_eq!(session.user.unwrap().email, "viewer@example.org");
    assert!(trailers.contains("grpc-status:0"), "{trailers}");

    let bad = auth_pb::LoginRequest { email: "viewer@example.org".into(), password: "wrong password".into() };
    let response = call("Login", frame(&bad)).await.unwrap();
    let status = response.headers().get("grpc-status").map(|v| v.to_str().unwrap().to_owned());
    let code = response.headers().get("ottr-error-code").map(|v| v.to_str().unwrap().to_owned());
    let (_, trailers) = frames(&response.bytes().await.unwrap());
    // Trailers-only responses put the status in headers; otherwise it is in the trailer frame.
    let status = status.unwrap_or_else(|| trailers.clone());
    let code = code.unwrap_or_else(|| trailers.clone());
    assert!(status.contains("16"), "UNAUTHENTICATED: {status}");
    assert!(code.contains("invalid_credentials"), "{code}");

    let internal = call("RotateSigningKey", frame(&auth_pb::RotateSigningKeyRequest {})).await.unwrap();
    let status = internal.headers().get("grpc-status").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert_eq!(status, "12", "UNIMPLEMENTED");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn grpc_calls_the_edge_does_not_route_answer_unimplemented_not_an_http_error(pool: PgPool) {
    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest,
    };
    let stack = spawn_stack(pool).await;
    let channel = tonic::transport::Endpoint::from_shared(stack.edge.clone()).unwrap().connect().await.unwrap();
    // A stock client of the older reflection API, which grpcurl-style tools try as a fallback.
    let mut reflection = ServerReflectionClient::new(channel.clone());
    let ask = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let refused = reflection.server_reflection_info(tonic::codegen::tokio_stream::iter([ask])).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unimplemented, "{refused:?}");

    // Any service nothing here routes, called by path with tonic's own client.
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<auth_pb::MeRequest, auth_pb::User>::default();
    let path = http::uri::PathAndQuery::from_static("/ottr.nowhere.v1.Nothing/Call");
    let refused = grpc.unary(tonic::Request::new(auth_pb::MeRequest {}), path, codec).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unimplemented, "{refused:?}");

    // The same over gRPC-web from HTTP/1.1: status in the headers, not an HTTP 405.
    let web = stack
        .http
        .post(stack.url("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .body(frame(&auth_pb::MeRequest {}))
        .send()
        .await
        .unwrap();
    assert_eq!(web.status(), 200);
    assert_eq!(web.headers()["grpc-status"], "12", "UNIMPLEMENTED");
    // Not gRPC at all: the web app's files still answer.
    assert_eq!(stack.http.get(stack.url("/")).send().await.unwrap().status(), 200);
}
