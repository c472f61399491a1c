//! A tower layer that verifies the bearer token of each request, when one is sent, and
//! puts the [`Caller`] into the request's extensions. Requests without a token pass
//! through (Register and Login need none); handlers that need a caller ask [`caller`].
//! A token that is sent and fails verification is refused here, before any handler runs.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use tower::{Layer, Service};

use super::{Caller, TokenError, TokenVerifier};

/// The caller of a request that passed through [`AuthLayer`], if it sent a token.
pub fn caller<T>(request: &tonic::Request<T>) -> Option<&Caller> {
    request.extensions().get::<Caller>()
}

#[derive(Clone)]
pub struct AuthLayer {
    verifier: Arc<TokenVerifier>,
}

impl AuthLayer {
    pub fn new(verifier: Arc<TokenVerifier>) -> Self {
        Self { verifier }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService { inner, verifier: self.verifier.clone() }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    verifier: Arc<TokenVerifier>,
}

/// The bearer token of a request: `None` when no `Authorization` header is sent, an error
/// when one is sent but is not a bearer token. HTTP front doors (the edge) use it too.
pub fn bearer(headers: &http::HeaderMap) -> Option<Result<String, TokenError>> {
    let value = headers.get(http::header::AUTHORIZATION)?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_owned())
        .ok_or(TokenError::Invalid("authorization is not a bearer token"));
    Some(token)
}

impl<S, B, R> Service<http::Request<B>> for AuthService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            if let Some(token) = bearer(request.headers()) {
                let verified = match token {
                    Ok(token) => verifier.verify(&token).await,
                    Err(error) => Err(error),
                };
                match verified {
                    Ok(caller) => {
                        request.extensions_mut().insert(caller);
                    }
                    Err(error) => return Ok(tonic::Status::from(error).into_http()),
                }
            }
            inner.call(request).await
        })
    }
}
