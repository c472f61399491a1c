//! Access tokens as other services see them: the shared verification library, fetching
//! keys from auth over gRPC, refuses every forged or out-of-bounds token, and keys rotate
//! without breaking tokens already issued.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use aws_lc_rs::{rand::SystemRandom, signature::Ed25519KeyPair};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ottr_proto::auth::v1 as pb;
use ottr_runtime::token::{GrpcJwksSource, JwksFuture, JwksSource, Revocations, Role, TokenError, TokenVerifier};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, bearer, code, spawn_app};

fn verifier(app: &TestApp) -> TokenVerifier {
    TokenVerifier::from_settings(&app.tokens, Revocations::new(app.redis.clone())).unwrap()
}

/// The key auth signs with now, read from its table as an attacker with the key would.
async fn signing_key(pool: &PgPool) -> (String, EncodingKey, String) {
    let (kid, der, x): (String, Vec<u8>, String) =
        sqlx::query_as("SELECT kid, private_pkcs8, public_x FROM auth.signing_keys ORDER BY active_from DESC LIMIT 1")
            .fetch_one(pool)
            .await
            .unwrap();
    (kid, EncodingKey::from_ed_der(&der), x)
}

fn claims(user_id: &str) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    json!({
        "iss": "ottr", "aud": "ottr", "sub": user_id, "roles": ["viewer"],
        "iat": now, "nbf": now, "exp": now + 600, "jti": uuid::Uuid::new_v4().to_string(), "typ": "access",
    })
}

fn sign(claims: &Value, kid: &str, key: &EncodingKey) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.into());
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn assert_invalid(result: Result<ottr_runtime::token::Caller, TokenError>, what: &str) {
    assert!(matches!(result, Err(TokenError::Invalid(_))), "{what}: {result:?}");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_token_auth_issued_verifies_to_its_user_and_roles(pool: PgPool) {
    let app = spawn_app(pool).await;
    let session = app.signed_in_with("ed@example.org", &[Role::Editor, Role::Viewer]).await;
    let caller = verifier(&app).verify(&session.access_token).await.unwrap();
    assert_eq!(caller.user_id.to_string(), session.user.unwrap().id);
    assert_eq!(caller.roles, vec![Role::Viewer, Role::Editor]);

    let header = jsonwebtoken::decode_header(&session.access_token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(session.access_token.split('.').nth(1).unwrap()).unwrap())
            .unwrap();
    for claim in ["iss", "aud", "sub", "roles", "iat", "nbf", "exp", "jti", "typ"] {
        assert!(payload.get(claim).is_some(), "claim {claim} is missing: {payload}");
    }
    let lifetime = payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap();
    assert!(lifetime > 0 && lifetime <= 900, "{lifetime}");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn forged_and_out_of_bounds_tokens_are_refused(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let session = app.register("ada@example.org").await;
    let user_id = session.user.unwrap().id;
    let (kid, key, public_x) = signing_key(&pool).await;
    let verifier = verifier(&app);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();

    // alg "none": no signature at all.
    let none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT", "kid": kid})), b64(&claims(&user_id)));
    assert_invalid(verifier.verify(&none).await, "alg none");

    // HS256 keyed with the public key, the classic algorithm-confusion attack.
    for secret in [public_x.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(&public_x).unwrap()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        let confused = jsonwebtoken::encode(&header, &claims(&user_id), &EncodingKey::from_secret(&secret)).unwrap();
        assert_invalid(verifier.verify(&confused).await, "HS256 with the public key");
    }

    let mut expired = claims(&user_id);
    expired["iat"] = json!(now - 3600);
    expired["nbf"] = json!(now - 3600);
    expired["exp"] = json!(now - 120);
    assert!(matches!(verifier.verify(&sign(&expired, &kid, &key)).await, Err(TokenError::Expired)));

    let mut early = claims(&user_id);
    early["nbf"] = json!(now + 600);
    early["exp"] = json!(now + 900);
    assert_invalid(verifier.verify(&sign(&early, &kid, &key)).await, "not yet valid");

    for (claim, value) in [("aud", "someone-else"), ("iss", "evil"), ("typ", "refresh")] {
        let mut wrong = claims(&user_id);
        wrong[claim] = json!(value);
        assert_invalid(verifier.verify(&sign(&wrong, &kid, &key)).await, claim);
    }

    // A real token with its payload changed (viewer → admin) keeps a signature that no longer fits.
    let mut parts: Vec<String> = session.access_token.split('.').map(str::to_owned).collect();
    let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["roles"] = json!(["admin"]);
    parts[1] = b64(&payload);
    assert_invalid(verifier.verify(&parts.join(".")).await, "tampered payload");

    // And a real token with a signature byte flipped.
    let mut signature = URL_SAFE_NO_PAD.decode(session.access_token.split('.').nth(2).unwrap()).unwrap();
    signature[10] ^= 0x01;
    let (head, _) = session.access_token.rsplit_once('.').unwrap();
    let flipped = format!("{head}.{}", URL_SAFE_NO_PAD.encode(signature));
    assert_invalid(verifier.verify(&flipped).await, "tampered signature");

    // Signed by a key auth never published.
    let stranger = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let unknown = sign(&claims(&user_id), "not-a-published-kid", &EncodingKey::from_ed_der(stranger.as_ref()));
    assert_invalid(verifier.verify(&unknown).await, "unknown kid");
    // Same stranger key presented under the real kid: the signature does not verify.
    let impostor = sign(&claims(&user_id), &kid, &EncodingKey::from_ed_der(stranger.as_ref()));
    assert_invalid(verifier.verify(&impostor).await, "stranger key under a real kid");

    assert!(verifier.verify(&sign(&claims(&user_id), &kid, &key)).await.is_ok(), "the control token verifies");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn the_service_refuses_a_bad_token_before_the_handler_with_a_stable_code(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let session = app.register("ada@example.org").await;
    let (kid, key, _) = signing_key(&pool).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut expired = claims(&session.user.unwrap().id);
    expired["exp"] = json!(now - 120);
    expired["nbf"] = json!(now - 600);
    let refused = app.client.clone().me(bearer(pb::MeRequest {}, &sign(&expired, &kid, &key))).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert_eq!(code(&refused), "token_expired");

    let garbage = app.client.clone().me(bearer(pb::MeRequest {}, "not.a.jwt")).await.unwrap_err();
    assert_eq!(code(&garbage), "token_invalid");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn after_rotation_old_tokens_verify_while_their_key_is_published(pool: PgPool) {
    let app = spawn_app(pool).await;
    let admin = app.signed_in_with("admin@example.org", &[Role::Admin]).await;
    let verifier = verifier(&app);
    let before = app.login("admin@example.org", crate::helpers::PASSWORD).await.unwrap().access_token;
    assert!(verifier.verify(&before).await.is_ok());

    let rotate = || async {
        app.client
            .clone()
            .rotate_signing_key(bearer(pb::RotateSigningKeyRequest {}, &admin.access_token))
            .await
            .unwrap()
            .into_inner()
            .kid
    };
    let new_kid = rotate().await;
    let jwks = app.client.clone().get_jwks(pb::GetJwksRequest {}).await.unwrap().into_inner();
    assert_eq!(jwks.keys.len(), 2, "current and previous are published");
    assert!(jwks.keys.iter().all(|k| k.kty == "OKP" && k.crv == "Ed25519" && k.alg == "EdDSA"));

    let after = app.login("admin@example.org", crate::helpers::PASSWORD).await.unwrap().access_token;
    assert_eq!(jsonwebtoken::decode_header(&after).unwrap().kid.as_deref(), Some(new_kid.as_str()));
    assert!(verifier.verify(&after).await.is_ok(), "the new key is fetched on its first unknown kid");
    assert!(verifier.verify(&before).await.is_ok(), "the previous key is still published");

    // Two rotations later the first key is no longer published.
    rotate().await;
    rotate().await;
    let fresh = TokenVerifier::from_settings(&app.tokens, Revocations::new(app.redis.clone())).unwrap();
    assert_invalid(fresh.verify(&before).await, "a retired key");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_rotated_key_is_published_before_it_signs(pool: PgPool) {
    let app = crate::helpers::spawn_app_with(pool, |k| k.auth.rotation_delay_secs = 3600).await;
    let admin = app.signed_in_with("admin@example.org", &[Role::Admin]).await;
    let signing_kid = jsonwebtoken::decode_header(&admin.access_token).unwrap().kid.unwrap();
    let pending = app
        .client
        .clone()
        .rotate_signing_key(bearer(pb::RotateSigningKeyRequest {}, &admin.access_token))
        .await
        .unwrap()
        .into_inner();
    assert!(pending.active_from > time::OffsetDateTime::now_utc().unix_timestamp() + 3000);
    let jwks = app.client.clone().get_jwks(pb::GetJwksRequest {}).await.unwrap().into_inner();
    let kids: Vec<_> = jwks.keys.iter().map(|k| k.kid.as_str()).collect();
    assert!(kids.contains(&pending.kid.as_str()) && kids.contains(&signing_kid.as_str()), "{kids:?}");
    let next = app.login("admin@example.org", crate::helpers::PASSWORD).await.unwrap().access_token;
    assert_eq!(jsonwebtoken::decode_header(&next).unwrap().kid.unwrap(), signing_kid, "old key signs until then");
}

/// Counts fetches on the way to the real auth server (not a stand-in for it).
struct Counting {
    inner: GrpcJwksSource,
    fetches: Arc<AtomicUsize>,
}

impl JwksSource for Counting {
    fn fetch(&self) -> JwksFuture<'_> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.inner.fetch()
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_flood_of_unknown_kids_refetches_the_keys_at_most_once_per_interval(pool: PgPool) {
    let app = spawn_app(pool).await;
    let session = app.register("ada@example.org").await;
    let fetches = Arc::new(AtomicUsize::new(0));
    let source = Counting { inner: GrpcJwksSource::new(&app.url).unwrap(), fetches: fetches.clone() };
    let settings = ottr_runtime::config::TokenSettings { refetch_interval_secs: 3600, ..app.tokens.clone() };
    let verifier = TokenVerifier::new(&settings, Arc::new(source));

    assert!(verifier.verify(&session.access_token).await.is_ok());
    let stranger = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let key = EncodingKey::from_ed_der(stranger.as_ref());
    for i in 0..20 {
        let forged = sign(&claims(&uuid::Uuid::new_v4().to_string()), &format!("forged-{i}"), &key);
        assert_invalid(verifier.verify(&forged).await, "forged kid");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "only the first fetch happened");
    assert!(verifier.verify(&session.access_token).await.is_ok(), "known keys keep working");
}
