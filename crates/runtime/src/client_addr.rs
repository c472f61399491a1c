//! The caller's real address. Behind the edge (or a load balancer) the transport peer is
//! the proxy, so throttles keyed on it would lock out everyone at once; the address a
//! proxy passes on is believed only when that proxy is one we trust.

use std::{
    net::IpAddr,
    sync::Arc,
    task::{Context, Poll},
};

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};
use tonic::transport::server::TcpConnectInfo;
use tower::{Layer, Service};

/// The metadata key the edge sets to the address it resolved for the caller.
pub const CLIENT_IP_HEADER: &str = "x-ottr-client-ip";
/// The de-facto standard chain of addresses, client first, each proxy appending its peer.
pub const FORWARDED_FOR_HEADER: &str = "x-forwarded-for";

/// Which peers may tell us who the caller is.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct NetworkSettings {
    /// CIDRs of trusted proxies: a list in a file, or comma-separated in the environment
    /// (`OTTR__AUTH__NETWORK__TRUSTED_PROXIES=127.0.0.0/8,::1/128,10.0.0.0/8`).
    #[serde(deserialize_with = "cidr_list")]
    pub trusted_proxies: Vec<IpNet>,
}

impl Default for NetworkSettings {
    /// Loopback only: the edge of `ottr up` and of a single host reaches services there.
    fn default() -> Self {
        let loopback = ["127.0.0.0/8", "::1/128"].iter().map(|c| c.parse().expect("constant CIDR")).collect();
        Self { trusted_proxies: loopback }
    }
}

fn cidr_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    let items = match Raw::deserialize(deserializer)? {
        Raw::One(text) => text.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        Raw::Many(items) => items,
    };
    items.iter().map(|item| parse_cidr(item).map_err(serde::de::Error::custom)).collect()
}

/// A CIDR, or a bare address meaning just that address.
fn parse_cidr(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is not an address or CIDR"))
}

fn trusted(address: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&address))
}

/// The caller's address given the transport `peer` and the request's headers.
///
/// An untrusted peer is the caller, whatever it claims. A trusted peer's `x-ottr-client-ip`
/// is taken as is (the edge resolved it already). Otherwise `X-Forwarded-For` is walked
/// from the right, each entry believed only while the hop that appended it is trusted:
/// the first address added by an untrusted hop is as far as anyone can vouch for.
pub fn resolve(peer: IpAddr, headers: &http::HeaderMap, proxies: &[IpNet]) -> IpAddr {
    let mut current = peer.to_canonical();
    if !trusted(current, proxies) {
        return current;
    }
    if let Some(ip) = headers.get(CLIENT_IP_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok()) {
        return IpAddr::to_canonical(&ip);
    }
    let chain: Vec<&str> = headers
        .get_all(FORWARDED_FOR_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for entry in chain.into_iter().rev() {
        if !trusted(current, proxies) {
            break;
        }
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) => current = ip.to_canonical(),
            // A garbled entry ends what can be believed; the last trusted hop stands.
            Err(_) => break,
        }
    }
    current
}

/// The resolved address, put into a request's extensions by [`ClientAddrLayer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The caller's address of a request served through [`crate::grpc::GrpcServer`]; the
/// transport peer when the layer did not run.
pub fn client_addr<T>(request: &tonic::Request<T>) -> Option<IpAddr> {
    request.extensions().get::<ClientAddr>().map(|c| c.0).or_else(|| request.remote_addr().map(|a| a.ip()))
}

/// Tower layer that resolves the caller's address once per request.
#[derive(Clone, Debug)]
pub struct ClientAddrLayer {
    proxies: Arc<[IpNet]>,
}

impl ClientAddrLayer {
    pub fn new(settings: &NetworkSettings) -> Self {
        Self { proxies: settings.trusted_proxies.clone().into() }
    }
}

impl<S> Layer<S> for ClientAddrLayer {
    type Service = ClientAddrService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientAddrService { inner, proxies: self.proxies.clone() }
    }
}

#[derive(Clone, Debug)]
pub struct ClientAddrService<S> {
    inner: S,
    proxies: Arc<[IpNet]>,
}

impl<S, B> Service<http::Request<B>> for ClientAddrService<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let peer = request.extensions().get::<TcpConnectInfo>().and_then(TcpConnectInfo::remote_addr);
        if let Some(peer) = peer {
            let address = resolve(peer.ip(), request.headers(), &self.proxies);
            request.extensions_mut().insert(ClientAddr(address));
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests;
