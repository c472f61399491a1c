//! Sessions: a short-lived access JWT plus an opaque refresh token. Refresh tokens are
//! random, stored only as SHA-256 hashes, and rotated on every use; presenting a spent
//! one again revokes its whole family, because one of the two holders is a thief, unless
//! it comes within a short grace window of the exchange (a browser racing itself).

use std::sync::Arc;

use aws_lc_rs::{digest, rand::SecureRandom, rand::SystemRandom};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Header};
use sqlx::PgPool;
use time::OffsetDateTime;

use ottr_proto::auth::v1 as pb;
use ottr_runtime::{
    config::TokenSettings,
    token::{ACCESS_TYP, AccessClaims, HEADER_TYP},
};

use crate::{
    AuthError, AuthSettings,
    domain::User,
    keys::KeyRing,
    store::{refresh as store, users},
};

/// Access tokens never live longer than this, whatever is configured.
pub const MAX_ACCESS_TTL_SECS: i64 = 15 * 60;

pub struct Sessions {
    pool: PgPool,
    keys: Arc<KeyRing>,
    issuer: String,
    audience: String,
    access_ttl_secs: i64,
    refresh_ttl: time::Duration,
    refresh_grace_secs: i64,
}

impl Sessions {
    pub fn new(pool: PgPool, keys: Arc<KeyRing>, auth: &AuthSettings, tokens: &TokenSettings) -> Self {
        Self {
            pool,
            keys,
            issuer: tokens.issuer.clone(),
            audience: tokens.audience.clone(),
            access_ttl_secs: auth.access_ttl_secs.clamp(1, MAX_ACCESS_TTL_SECS),
            refresh_ttl: time::Duration::seconds(auth.refresh_ttl_secs),
            refresh_grace_secs: auth.refresh_grace_secs.max(0),
        }
    }

    /// A new session for a user who just proved who they are: a new refresh family.
    pub async fn start(&self, user: User) -> Result<pb::Session, AuthError> {
        let mut tx = self.pool.begin().await?;
        let family_id = store::start_family(&mut tx, user.id).await?;
        let (refresh_token, hash) = new_refresh_token()?;
        let refresh_expires_at = OffsetDateTime::now_utc() + self.refresh_ttl;
        store::insert_token(&mut tx, family_id, &hash, refresh_expires_at).await?;
        tx.commit().await?;
        self.session(user, refresh_token, refresh_expires_at).await
    }

    /// Spends `refresh_token` for a new session in the same family.
    pub async fn refresh(&self, refresh_token: &str) -> Result<pb::Session, AuthError> {
        let presented = hash(refresh_token);
        let mut tx = self.pool.begin().await?;
        let (family_id, user_id) = match store::lock(&mut tx, &presented, self.refresh_grace_secs).await? {
            store::Presented::Live { family_id, user_id } => {
                store::mark_used(&mut tx, &presented).await?;
                (family_id, user_id)
            }
            // Two tabs (or two requests of one page) refreshing with the same token: the
            // later one gets its own successor in the same family, so both stay signed in
            // and a later logout or theft still ends both. `used_at` is not moved, so
            // replays cannot stretch the window. The cost: a thief replaying within the
            // window also gets a session, the trade Auth0's "reuse interval" makes too.
            store::Presented::Spent { family_id, user_id, in_grace: true } => {
                tracing::info!(%family_id, "refresh token presented again within the grace window");
                (family_id, user_id)
            }
            store::Presented::Spent { family_id, in_grace: false, .. } => {
                store::revoke_family(&mut tx, family_id).await?;
                tx.commit().await?;
                tracing::warn!(%family_id, "refresh token reused; family revoked");
                return Err(AuthError::RefreshTokenReused);
            }
            store::Presented::Unknown | store::Presented::Revoked | store::Presented::Expired => {
                return Err(AuthError::InvalidRefreshToken);
            }
        };
        let (next, next_hash) = new_refresh_token()?;
        let refresh_expires_at = OffsetDateTime::now_utc() + self.refresh_ttl;
        store::insert_token(&mut tx, family_id, &next_hash, refresh_expires_at).await?;
        // Roles are read again, so a changed role reaches the next access token.
        let user = users::get(&mut *tx, user_id).await?;
        tx.commit().await?;
        self.session(user, next, refresh_expires_at).await
    }

    /// Revokes the family of `refresh_token`. Revoking twice is not an error.
    pub async fn logout(&self, refresh_token: &str) -> Result<(), AuthError> {
        let family_id =
            store::family_of(&self.pool, &hash(refresh_token)).await?.ok_or(AuthError::InvalidRefreshToken)?;
        let mut conn = self.pool.acquire().await?;
        store::revoke_family(&mut conn, family_id).await
    }

    async fn session(
        &self,
        user: User,
        refresh_token: String,
        refresh_expires_at: OffsetDateTime,
    ) -> Result<pb::Session, AuthError> {
        let access_token = self.access_token(&user).await?;
        Ok(pb::Session {
            user: Some(user.into()),
            access_token,
            expires_in: self.access_ttl_secs,
            refresh_token,
            refresh_expires_at: refresh_expires_at.unix_timestamp(),
        })
    }

    async fn access_token(&self, user: &User) -> Result<String, AuthError> {
        let signing = self.keys.signing_key().await?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.id.to_string(),
            roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            iat: now,
            nbf: now,
            exp: now + self.access_ttl_secs,
            jti: uuid::Uuid::new_v4().to_string(),
            typ: ACCESS_TYP.into(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(signing.kid);
        header.typ = Some(HEADER_TYP.into());
        jsonwebtoken::encode(&header, &claims, &signing.key).map_err(AuthError::Signing)
    }
}

/// 256 random bits, base64url, and the hash that is stored.
fn new_refresh_token() -> Result<(String, Vec<u8>), AuthError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(AuthError::Randomness)?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    Ok((token, hash))
}

/// A fast hash is enough: the token has 256 bits of entropy, nothing to brute-force.
fn hash(token: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, token.as_bytes()).as_ref().to_vec()
}
