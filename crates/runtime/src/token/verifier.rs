//! Verifies access tokens against auth's published keys. The key set is cached; an
//! unknown `kid` triggers a refetch, at most once per refetch interval, so rotation is
//! picked up at once while forged `kid`s cannot flood auth. A verifier built with
//! [`Revocations`] also refuses tokens of ended sessions, on every call.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use tokio::sync::{Mutex, RwLock};
use tonic::{
    service::interceptor::InterceptedService,
    transport::{Channel, Endpoint},
};

use ottr_proto::auth::v1::{self as pb, auth_service_client::AuthServiceClient};

use super::{ACCESS_TYP, AccessClaims, Caller, Revocations, Role};
use crate::{ErrorCode, config::TokenSettings, request_id};

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid: {0}")]
    Invalid(&'static str),
    #[error("the signing keys cannot be fetched: {0}")]
    KeysUnavailable(String),
}

impl From<TokenError> for tonic::Status {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Expired => ErrorCode::TokenExpired.status(error.to_string()),
            TokenError::Invalid(_) => ErrorCode::TokenInvalid.status(error.to_string()),
            TokenError::KeysUnavailable(_) => {
                tracing::error!(%error, "cannot verify access tokens");
                ErrorCode::Unavailable.status("access tokens cannot be verified right now")
            }
        }
    }
}

pub type JwksFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<pb::Jwk>, TokenError>> + Send + 'a>>;

/// Where published keys come from: auth's GetJwks for every service, auth's own key
/// ring inside auth.
pub trait JwksSource: Send + Sync + 'static {
    fn fetch(&self) -> JwksFuture<'_>;
}

/// Fetches the JWKS through auth's gRPC client.
pub struct GrpcJwksSource {
    client: AuthServiceClient<InterceptedService<Channel, Propagate>>,
}

type Propagate = fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status>;

impl GrpcJwksSource {
    /// Connects lazily: a service may start before auth does.
    pub fn new(auth_url: &str) -> Result<Self, tonic::transport::Error> {
        let channel = Endpoint::from_shared(auth_url.to_owned())?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .connect_lazy();
        Ok(Self { client: AuthServiceClient::with_interceptor(channel, request_id::propagate as Propagate) })
    }
}

impl JwksSource for GrpcJwksSource {
    fn fetch(&self) -> JwksFuture<'_> {
        let mut client = self.client.clone();
        Box::pin(async move {
            let jwks = client
                .get_jwks(pb::GetJwksRequest {})
                .await
                .map_err(|status| TokenError::KeysUnavailable(status.to_string()))?;
            Ok(jwks.into_inner().keys)
        })
    }
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

pub struct TokenVerifier {
    source: Arc<dyn JwksSource>,
    validation: Validation,
    refetch_interval: Duration,
    max_age: Duration,
    cache: RwLock<KeyCache>,
    /// One fetch at a time; callers that waited for it look at its result first.
    fetching: Mutex<()>,
    /// Ended sessions; `None` checks signatures and claims only (tools, fuzzing).
    revocations: Option<Revocations>,
}

impl TokenVerifier {
    /// A verifier of signatures and claims alone; services add
    /// [`checking_revocations`](Self::checking_revocations) (or use [`from_settings`](Self::from_settings)).
    pub fn new(settings: &TokenSettings, source: Arc<dyn JwksSource>) -> Self {
        // The algorithm is pinned: a token's own `alg` never chooses how it is checked.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        Self {
            source,
            validation,
            refetch_interval: Duration::from_secs(settings.refetch_interval_secs),
            max_age: Duration::from_secs(settings.max_age_secs),
            cache: RwLock::default(),
            fetching: Mutex::default(),
            revocations: None,
        }
    }

    /// Also refuses the tokens of sessions auth has ended (see [`Revocations`]).
    pub fn checking_revocations(mut self, revocations: Revocations) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// What a service verifies with: keys fetched from auth over gRPC, and ended sessions
    /// looked up in the Redis auth writes them to.
    pub fn from_settings(settings: &TokenSettings, revocations: Revocations) -> Result<Self, tonic::transport::Error> {
        Ok(Self::new(settings, Arc::new(GrpcJwksSource::new(&settings.auth_url)?)).checking_revocations(revocations))
    }

    /// Checks signature, algorithm, `kid`, `iss`, `aud`, `typ`, `exp` and `nbf`, then that
    /// the token's session has not been ended.
    pub async fn verify(&self, token: &str) -> Result<Caller, TokenError> {
        let caller = self.verify_signed(token).await?;
        if let (Some(revocations), Some(session)) = (&self.revocations, caller.session_id)
            && revocations.is_revoked(session).await == Some(true)
        {
            return Err(TokenError::Invalid("the session has ended"));
        }
        Ok(caller)
    }

    async fn verify_signed(&self, token: &str) -> Result<Caller, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid("malformed"))?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Invalid("algorithm not allowed"));
        }
        let kid = header.kid.ok_or(TokenError::Invalid("no key id"))?;
        let key = self.key(&kid).await?;
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &key, &self.validation)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::Invalid("not yet valid"),
                ErrorKind::InvalidIssuer => TokenError::Invalid("wrong issuer"),
                ErrorKind::InvalidAudience => TokenError::Invalid("wrong audience"),
                ErrorKind::InvalidSignature => TokenError::Invalid("bad signature"),
                _ => TokenError::Invalid("malformed"),
            })?
            .claims;
        if claims.typ != ACCESS_TYP {
            return Err(TokenError::Invalid("not an access token"));
        }
        let user_id = claims.sub.parse().map_err(|_| TokenError::Invalid("malformed subject"))?;
        // Roles this build does not know grant nothing.
        let roles = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        let session_id = match claims.sid.as_deref() {
            Some(sid) => Some(sid.parse().map_err(|_| TokenError::Invalid("malformed session"))?),
            None => None,
        };
        Ok(Caller { user_id, roles, session_id })
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        if let Some(key) = self.cached(kid, true).await {
            return Ok(key);
        }
        let _one_fetch = self.fetching.lock().await;
        if let Some(key) = self.cached(kid, true).await {
            return Ok(key);
        }
        let (stale, may_refetch) = {
            let cache = self.cache.read().await;
            let age = cache.fetched_at.map(|at| at.elapsed());
            (age.is_none_or(|age| age >= self.max_age), age.is_none_or(|age| age >= self.refetch_interval))
        };
        if stale || may_refetch {
            match self.source.fetch().await {
                Ok(jwks) => self.store(jwks).await,
                // Auth is away: keep verifying with the keys we already hold.
                Err(error) => {
                    tracing::warn!(%error, "JWKS refetch failed");
                    if self.cache.read().await.fetched_at.is_none() {
                        return Err(error);
                    }
                }
            }
        }
        self.cached(kid, false).await.ok_or(TokenError::Invalid("unknown key id"))
    }

    async fn cached(&self, kid: &str, fresh_only: bool) -> Option<DecodingKey> {
        let cache = self.cache.read().await;
        let fresh = cache.fetched_at.is_some_and(|at| at.elapsed() < self.max_age);
        (fresh || !fresh_only).then(|| cache.keys.get(kid).cloned()).flatten()
    }

    async fn store(&self, jwks: Vec<pb::Jwk>) {
        let keys = jwks
            .into_iter()
            .filter(|jwk| jwk.kty == "OKP" && jwk.crv == "Ed25519" && jwk.alg == "EdDSA")
            .filter_map(|jwk| Some((jwk.kid, DecodingKey::from_ed_components(&jwk.x).ok()?)))
            .collect();
        *self.cache.write().await = KeyCache { keys, fetched_at: Some(Instant::now()) };
    }
}
