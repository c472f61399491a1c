//! Sessions: a short-lived access JWT plus an opaque refresh token. Refresh tokens are
//! random, stored only as SHA-256 hashes, and rotated on every use; presenting a spent
//! one again revokes its whole family, because one of the two holders is a thief, unless
//! it comes within a short grace window of the exchange (a browser racing itself).
//!
//! A session is a refresh family, and its access tokens name it (`sid`). Whenever families
//! are revoked, they are also announced as ended through [`Revocations`], so their access
//! tokens stop verifying everywhere at once rather than when they expire.

use std::sync::Arc;

use aws_lc_rs::{digest, rand::SecureRandom, rand::SystemRandom};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Header};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use ottr_proto::auth::v1 as pb;
use ottr_runtime::{
    config::TokenSettings,
    token::{ACCESS_TYP, AccessClaims, HEADER_TYP, Revocations},
};

use crate::{
    AuthError, AuthSettings,
    domain::User,
    keys::KeyRing,
    store::{refresh as store, users},
};

/// Access tokens never live longer than this, whatever is configured.
pub const MAX_ACCESS_TTL_SECS: i64 = 15 * 60;

/// How much longer than an access token's lifetime an ended session is remembered: more
/// than the verifiers' 30 s leeway on `exp`.
const ENDED_MARGIN_SECS: i64 = 60;

/// A session started inside a transaction, to be signed once the transaction commits.
pub(crate) struct Opened {
    user: User,
    family_id: Uuid,
    refresh_token: String,
    refresh_expires_at: OffsetDateTime,
}

pub struct Sessions {
    pool: PgPool,
    keys: Arc<KeyRing>,
    issuer: String,
    audience: String,
    access_ttl_secs: i64,
    refresh_ttl: time::Duration,
    refresh_grace_secs: i64,
    revocations: Revocations,
}

impl Sessions {
    pub fn new(
        pool: PgPool,
        keys: Arc<KeyRing>,
        auth: &AuthSettings,
        tokens: &TokenSettings,
        revocations: Revocations,
    ) -> Self {
        Self {
            pool,
            keys,
            issuer: tokens.issuer.clone(),
            audience: tokens.audience.clone(),
            access_ttl_secs: auth.access_ttl_secs.clamp(1, MAX_ACCESS_TTL_SECS),
            refresh_ttl: time::Duration::seconds(auth.refresh_ttl_secs),
            refresh_grace_secs: auth.refresh_grace_secs.max(0),
            revocations,
        }
    }

    /// A new session for a user who just proved who they are: a new refresh family.
    /// `verified_hash` is the password hash the proof was checked against, if a password was
    /// the proof: a password changed in the meantime refuses the session.
    pub async fn start(&self, user_id: Uuid, verified_hash: Option<&str>) -> Result<pb::Session, AuthError> {
        let mut tx = self.pool.begin().await?;
        let opened = self.open(&mut tx, user_id, verified_hash).await?;
        tx.commit().await?;
        self.issue(opened).await
    }

    /// Starts a session inside the caller's transaction; [`issue`](Self::issue) it after the
    /// commit. The account's row stays locked until then, so a password change, a disabling
    /// or a deletion either comes first (and is seen here) or waits and then ends this session.
    pub(crate) async fn open(
        &self,
        tx: &mut PgConnection,
        user_id: Uuid,
        verified_hash: Option<&str>,
    ) -> Result<Opened, AuthError> {
        let (user, hash) = users::lock_credentials(tx, user_id, users::Lock::Share).await?;
        if verified_hash.is_some_and(|verified| verified != hash) {
            return Err(AuthError::InvalidCredentials);
        }
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        let family_id = store::start_family(tx, user.id).await?;
        let (refresh_token, token_hash) = random_secret()?;
        let refresh_expires_at = OffsetDateTime::now_utc() + self.refresh_ttl;
        store::insert_token(tx, family_id, &token_hash, refresh_expires_at).await?;
        Ok(Opened { user, family_id, refresh_token, refresh_expires_at })
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
                self.announce_ended(&[family_id]).await;
                return Err(AuthError::RefreshTokenReused);
            }
            // A disabled account's client is told why, so it stops trying to refresh.
            store::Presented::Revoked { user_id } => {
                let user = users::get(&mut *tx, user_id).await?;
                return Err(if user.disabled { AuthError::AccountDisabled } else { AuthError::InvalidRefreshToken });
            }
            store::Presented::Unknown | store::Presented::Expired => {
                return Err(AuthError::InvalidRefreshToken);
            }
        };
        let (next, next_hash) = random_secret()?;
        let refresh_expires_at = OffsetDateTime::now_utc() + self.refresh_ttl;
        store::insert_token(&mut tx, family_id, &next_hash, refresh_expires_at).await?;
        // Roles are read again, so a changed role reaches the next access token.
        let user = users::get(&mut *tx, user_id).await?;
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        tx.commit().await?;
        self.issue(Opened { user, family_id, refresh_token: next, refresh_expires_at }).await
    }

    /// Revokes the family of `refresh_token`, and its access tokens with it. Revoking twice
    /// is not an error.
    pub async fn logout(&self, refresh_token: &str) -> Result<(), AuthError> {
        let family_id =
            store::family_of(&self.pool, &hash(refresh_token)).await?.ok_or(AuthError::InvalidRefreshToken)?;
        let mut conn = self.pool.acquire().await?;
        store::revoke_family(&mut conn, family_id).await?;
        self.announce_ended(&[family_id]).await;
        Ok(())
    }

    /// Revokes every session of the user but `keep`, inside the caller's transaction; pass
    /// the answer to [`announce_ended`](Self::announce_ended) once it commits.
    pub(crate) async fn revoke_all(
        &self,
        tx: &mut PgConnection,
        user_id: Uuid,
        keep: Option<Uuid>,
    ) -> Result<store::Revoked, AuthError> {
        store::revoke_all(tx, user_id, keep, self.ended_ttl_secs()).await
    }

    /// Tells every verifier that these sessions have ended. The revocation in PostgreSQL is
    /// what counts (no refresh succeeds); if Redis is away, the sessions' access tokens
    /// keep working until they expire, and this says so in the log.
    pub(crate) async fn announce_ended(&self, families: &[Uuid]) {
        let ttl = std::time::Duration::from_secs(self.ended_ttl_secs().unsigned_abs());
        if let Err(error) = self.revocations.revoke(families, ttl).await {
            tracing::warn!(
                %error,
                sessions = families.len(),
                "cannot announce ended sessions in Redis; their access tokens work until they expire"
            );
        }
    }

    fn ended_ttl_secs(&self) -> i64 {
        self.access_ttl_secs + ENDED_MARGIN_SECS
    }

    /// Signs the access token of a session that is stored.
    pub(crate) async fn issue(&self, opened: Opened) -> Result<pb::Session, AuthError> {
        let access_token = self.access_token(&opened.user, opened.family_id).await?;
        Ok(pb::Session {
            user: Some(opened.user.into()),
            access_token,
            expires_in: self.access_ttl_secs,
            refresh_token: opened.refresh_token,
            refresh_expires_at: opened.refresh_expires_at.unix_timestamp(),
        })
    }

    async fn access_token(&self, user: &User, family_id: Uuid) -> Result<String, AuthError> {
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
            sid: Some(family_id.to_string()),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(signing.kid);
        header.typ = Some(HEADER_TYP.into());
        jsonwebtoken::encode(&header, &claims, &signing.key).map_err(AuthError::Signing)
    }
}

/// 256 random bits, base64url, and the hash that is stored: refresh tokens, device codes.
pub(crate) fn random_secret() -> Result<(String, Vec<u8>), AuthError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(AuthError::Randomness)?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    Ok((token, hash))
}

/// A fast hash is enough: the token has 256 bits of entropy, nothing to brute-force.
pub(crate) fn hash(token: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, token.as_bytes()).as_ref().to_vec()
}
