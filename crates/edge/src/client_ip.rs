//! The caller's real address, as the edge sees it: the TCP peer, or what `X-Forwarded-For`
//! says when the peer is a trusted proxy (the runtime's rules, with the same settings). The
//! result travels to the services in `x-ottr-client-ip`, so their throttles count the
//! caller rather than the edge, and keys the edge's own rate limit.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderValue,
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;
use ottr_runtime::client_addr::{CLIENT_IP_HEADER, ClientAddr, resolve};
use tower_governor::{GovernorError, key_extractor::KeyExtractor};

/// Trusted proxies, shared by every request.
pub(crate) type Proxies = Arc<[IpNet]>;

/// Resolves the address once per request. A caller-supplied `x-ottr-client-ip` is replaced
/// (a trusted proxy's value was already taken into account by `resolve`), so the services
/// only ever see the edge's answer.
pub(crate) async fn resolve_client(State(proxies): State<Proxies>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let headers = request.headers_mut();
    let address = peer.map(|peer| resolve(peer, headers, &proxies));
    headers.remove(CLIENT_IP_HEADER);
    if let Some(address) = address {
        if let Ok(value) = HeaderValue::try_from(address.to_string()) {
            headers.insert(CLIENT_IP_HEADER, value);
        }
        request.extensions_mut().insert(ClientAddr(address));
    }
    next.run(request).await
}

/// Keys `tower_governor` on the resolved address, never on a header a caller can forge.
#[derive(Clone, Copy, Debug)]
pub struct ClientKey;

impl KeyExtractor for ClientKey {
    type Key = std::net::IpAddr;

    fn extract<T>(&self, request: &http::Request<T>) -> Result<Self::Key, GovernorError> {
        request.extensions().get::<ClientAddr>().map(|c| c.0).ok_or(GovernorError::UnableToExtractKey)
    }
}
