//! Talking to the edge's REST API as one signed-in account: the HTTP client, where the
//! edge is, the session's tokens (refreshed once when a request meets a 401), and the
//! edge's `{ "code", "message" }` refusals as a typed error.

use std::{sync::Mutex, time::Duration};

use anyhow::Context;
use reqwest::{Client, RequestBuilder, Response, StatusCode, Url};
use serde::Deserialize;

/// The edge, as `--edge` names it.
#[derive(Clone, Debug)]
pub(crate) struct Edge {
    base: Url,
}

impl Edge {
    /// An http(s) URL; a path prefix (a reverse proxy's) is kept.
    pub(crate) fn parse(raw: &str) -> anyhow::Result<Self> {
        let trimmed = raw.trim_end_matches('/');
        // The trailing slash makes `join` append to the prefix instead of replacing its last part.
        let base = Url::parse(&format!("{trimmed}/")).with_context(|| format!("--edge {raw} is not a URL"))?;
        anyhow::ensure!(matches!(base.scheme(), "http" | "https"), "--edge {raw} is not an http(s) URL");
        Ok(Self { base })
    }

    /// `path` under the edge, e.g. `api/v1/uploads`.
    pub(crate) fn url(&self, path: &str) -> anyhow::Result<Url> {
        self.base.join(path).with_context(|| format!("joining {path} to {}", self.base))
    }

    /// The edge as the resume fingerprint names it.
    pub(crate) fn as_str(&self) -> &str {
        self.base.as_str()
    }
}

/// The edge's refusal of a request: its HTTP status and the stable code and message of
/// its body (or the status's reason when the body is not ottr's error JSON).
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, HTTP {})", self.message, self.code, self.status.as_u16())
    }
}

impl std::error::Error for ApiError {}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
}

impl ApiError {
    pub(crate) async fn from_response(response: Response) -> Self {
        let status = response.status();
        let body = response.json::<ErrorBody>().await.ok();
        let (code, message) = match body {
            Some(body) => (body.code, body.message),
            None => ("http_error".to_owned(), status.canonical_reason().unwrap_or("refused").to_owned()),
        };
        Self { status, code, message }
    }
}

/// The response when its status is a success, else the edge's refusal as an [`ApiError`].
pub(crate) async fn success(response: Response) -> anyhow::Result<Response> {
    if response.status().is_success() {
        return Ok(response);
    }
    Err(ApiError::from_response(response).await.into())
}

/// One client for every request of a run. A connection that stops acknowledging what is
/// sent is closed after a minute (`TCP_USER_TIMEOUT`), and an idle one that stops
/// answering keep-alive probes after about the same, so a dropped link surfaces as an
/// error the upload retries instead of a request that hangs.
pub(crate) fn client() -> anyhow::Result<Client> {
    let builder = Client::builder()
        .user_agent(concat!("ottr-cli/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .tcp_keepalive(Duration::from_secs(30))
        .tcp_keepalive_interval(Duration::from_secs(10))
        .tcp_keepalive_retries(3);
    #[cfg(target_os = "linux")]
    let builder = builder.tcp_user_timeout(Duration::from_secs(60));
    builder.build().context("building the HTTP client")
}

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: String,
}

/// A signed-in account (or a bare access token), for requests to one edge.
pub(crate) struct Session {
    http: Client,
    edge: Edge,
    /// The access token and, after a sign-in, the refresh token that renews it: an upload
    /// can outlast an access token (at most 15 minutes).
    tokens: Mutex<(String, Option<String>)>,
}

impl Session {
    /// Signs in with an email and password (`POST /api/v1/auth/login`).
    pub(crate) async fn sign_in(http: Client, edge: Edge, email: &str, password: &str) -> anyhow::Result<Self> {
        let body = serde_json::json!({ "email": email, "password": password });
        let response = http.post(edge.url("api/v1/auth/login")?).json(&body).send().await?;
        let tokens: Tokens = success(response).await?.json().await.context("reading the sign-in answer")?;
        Ok(Self { http, edge, tokens: Mutex::new((tokens.access_token, Some(tokens.refresh_token))) })
    }

    /// Uses an access token as given; it cannot be renewed.
    pub(crate) fn with_token(http: Client, edge: Edge, token: String) -> Self {
        Self { http, edge, tokens: Mutex::new((token, None)) }
    }

    pub(crate) fn edge(&self) -> &Edge {
        &self.edge
    }

    fn access_token(&self) -> String {
        self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner).0.clone()
    }

    /// Sends the request `build` makes with the current access token. A 401 renews the
    /// token once (when there is a refresh token) and sends a fresh request, which is why
    /// this takes a builder rather than a request: a streamed body cannot be sent twice.
    /// Statuses other than 401 come back as they are, for the caller to judge.
    pub(crate) async fn send(
        &self,
        build: impl Fn(&Client) -> anyhow::Result<RequestBuilder>,
    ) -> anyhow::Result<Response> {
        let response = build(&self.http)?.bearer_auth(self.access_token()).send().await?;
        if response.status() != StatusCode::UNAUTHORIZED || !self.refresh().await? {
            return Ok(response);
        }
        Ok(build(&self.http)?.bearer_auth(self.access_token()).send().await?)
    }

    /// Spends the refresh token for new tokens; false when there is none to spend.
    async fn refresh(&self) -> anyhow::Result<bool> {
        let refresh_token = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner).1.clone();
        let Some(refresh_token) = refresh_token else { return Ok(false) };
        let body = serde_json::json!({ "refresh_token": refresh_token });
        let response = self.http.post(self.edge.url("api/v1/auth/refresh")?).json(&body).send().await?;
        let tokens: Tokens =
            success(response).await.context("renewing the session")?.json().await.context("reading the renewal")?;
        *self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            (tokens.access_token, Some(tokens.refresh_token));
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_paths_join_under_the_base_with_or_without_a_trailing_slash_or_prefix() {
        for raw in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"] {
            let edge = Edge::parse(raw).unwrap();
            assert_eq!(edge.url("api/v1/uploads").unwrap().as_str(), "http://127.0.0.1:8080/api/v1/uploads");
        }
        let prefixed = Edge::parse("https://example.org/ottr").unwrap();
        assert_eq!(prefixed.url("api/v1/uploads").unwrap().as_str(), "https://example.org/ottr/api/v1/uploads");
        assert!(Edge::parse("ftp://example.org").is_err());
        assert!(Edge::parse("not a url").is_err());
    }
}
