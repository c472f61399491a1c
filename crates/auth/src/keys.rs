//! The signing key ring: Ed25519 keys kept in PostgreSQL so they survive restarts and are
//! shared by every auth instance. The newest active key signs; rotation adds a key that
//! is published at once and signs after a delay.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{Ed25519KeyPair, KeyPair},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::EncodingKey;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::RwLock;

use ottr_proto::auth::v1 as pb;
use ottr_runtime::token::{JwksFuture, JwksSource, TokenError};

use crate::{AuthError, store::keys as store};

/// The key that signs, with the id verifiers look it up by.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub key: EncodingKey,
}

pub struct KeyRing {
    pool: PgPool,
    cache_for: Duration,
    cached: RwLock<Option<(Instant, SigningKey)>>,
}

impl KeyRing {
    /// Makes sure a first key exists.
    pub async fn open(pool: PgPool, cache_for: Duration) -> Result<Arc<Self>, AuthError> {
        store::insert_first(&pool, &generate(OffsetDateTime::now_utc())?).await?;
        Ok(Arc::new(Self { pool, cache_for, cached: RwLock::default() }))
    }

    /// The key to sign with now. Cached briefly: after a rotation elsewhere the previous
    /// key may sign a little longer, which is fine because it stays published.
    pub async fn signing_key(&self) -> Result<SigningKey, AuthError> {
        if let Some((at, key)) = &*self.cached.read().await
            && at.elapsed() < self.cache_for
        {
            return Ok(key.clone());
        }
        let row = store::current(&self.pool).await?.ok_or(AuthError::NoSigningKey)?;
        let key = SigningKey { kid: row.kid, key: EncodingKey::from_ed_der(&row.private_pkcs8) };
        *self.cached.write().await = Some((Instant::now(), key.clone()));
        Ok(key)
    }

    /// Adds a new key that signs from `now + delay`; returns its id and that moment.
    pub async fn rotate(&self, delay: time::Duration) -> Result<(String, OffsetDateTime), AuthError> {
        let key = generate(OffsetDateTime::now_utc() + delay)?;
        store::insert(&self.pool, &key).await?;
        // Forget the cached key so that, with no delay, the new one signs at once here.
        *self.cached.write().await = None;
        Ok((key.kid, key.active_from))
    }

    /// The public keys verifiers accept, as a JWKS.
    pub async fn published(&self) -> Result<Vec<pb::Jwk>, AuthError> {
        let keys = store::published(&self.pool).await?;
        Ok(keys
            .into_iter()
            .map(|(kid, x)| pb::Jwk {
                kid,
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x,
                alg: "EdDSA".into(),
                r#use: "sig".into(),
            })
            .collect())
    }
}

/// Auth verifies the tokens it issued against its own key ring, through the same
/// verifier every other service uses.
impl JwksSource for KeyRing {
    fn fetch(&self) -> JwksFuture<'_> {
        Box::pin(async move { self.published().await.map_err(|e| TokenError::KeysUnavailable(e.to_string())) })
    }
}

fn generate(active_from: OffsetDateTime) -> Result<store::KeyRow, AuthError> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(AuthError::Randomness)?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(AuthError::KeyRejected)?;
    let public_x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    Ok(store::KeyRow {
        kid: uuid::Uuid::new_v4().simple().to_string(),
        private_pkcs8: pkcs8.as_ref().to_vec(),
        public_x,
        active_from,
    })
}
