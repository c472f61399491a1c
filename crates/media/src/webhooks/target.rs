//! Where a webhook may be sent: `https://` (or `http://` when allowed), no credentials in
//! the URL, and a host that is, and resolves only to, public addresses, unless the
//! operator allows internal ones. The same rule runs again at every send, in the DNS
//! resolver the senders' HTTP client uses, so a name that resolved to a public address
//! when it was registered cannot later be pointed at 127.0.0.1 or 169.254.169.254
//! (DNS rebinding), and redirects are never followed.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use reqwest::Url;

/// How long registering waits for a host's addresses.
const LOOKUP_LIMIT: std::time::Duration = std::time::Duration::from_secs(3);

/// What the operator allows beyond public https endpoints.
#[derive(Clone, Copy, Debug, Default)]
pub struct Policy {
    pub allow_http: bool,
    pub allow_private: bool,
}

/// Why a URL is refused, in words for the editor.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct Refused(pub String);

fn refused(message: impl Into<String>) -> Refused {
    Refused(message.into())
}

/// Whether an address is on the public internet: not loopback, private, link-local
/// (cloud metadata lives there), shared (CGNAT), unspecified, broadcast, multicast,
/// documentation or reserved; IPv6 likewise, and IPv4 carried inside IPv6 as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space, RFC 6598
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || ip.segments()[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, deprecated
}

/// Checks `raw` as a webhook URL, resolving its host; returns it parsed.
pub async fn check(raw: &str, policy: Policy) -> Result<Url, Refused> {
    if raw.len() > 2048 {
        return Err(refused("the URL is longer than 2048 characters"));
    }
    let url = Url::parse(raw).map_err(|e| refused(format!("not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => return Err(refused("the URL must be https")),
        other => return Err(refused(format!("{other}: the URL must be https"))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused("the URL may not carry credentials; verify the signature instead"));
    }
    let host = url.host_str().ok_or_else(|| refused("the URL has no host"))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = match literal(host) {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => tokio::time::timeout(LOOKUP_LIMIT, tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| refused(format!("{host} did not resolve in time")))?
            .map_err(|e| refused(format!("{host} does not resolve: {e}")))?
            .collect(),
    };
    if addresses.is_empty() {
        return Err(refused(format!("{host} does not resolve")));
    }
    allowed(&addresses, policy).map_err(|ip| refused(format!("{host} is an internal address ({ip})")))?;
    Ok(url)
}

/// Every address public, or internal ones allowed; else the first that is not.
fn allowed(addresses: &[SocketAddr], policy: Policy) -> Result<(), IpAddr> {
    match addresses.iter().find(|a| !is_public(a.ip())) {
        Some(address) if !policy.allow_private => Err(address.ip()),
        _ => Ok(()),
    }
}

/// The senders' DNS resolver: the system's, with every answer held to the policy.
pub struct Resolver(pub Policy);

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            allowed(&found, policy)
                .map_err(|ip| format!("{} resolves to an internal address ({ip})", name.as_str()))?;
            let found: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(found)
        })
    }
}

/// The client every send goes out on: the checking resolver, no redirects, a time limit.
pub fn client(policy: Policy, timeout: std::time::Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(Resolver(policy)))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("ottr-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A URL whose host is an address literal skips the resolver: held to the policy here.
pub fn literal_allowed(url: &Url, policy: Policy) -> bool {
    match literal(url.host_str().unwrap_or_default()) {
        Some(ip) => policy.allow_private || is_public(ip),
        None => true,
    }
}

/// The address a host names literally (`10.0.0.5`, `[::1]`), if it does.
fn literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: Policy = Policy { allow_http: false, allow_private: false };

    #[test]
    fn internal_addresses_are_told_from_public_ones() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "198.18.0.1",
            "240.0.0.1",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in ["1.1.1.1", "8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn only_public_https_urls_without_credentials_pass_by_default() {
        for (url, why) in [
            ("http://93.184.216.34/hook", "must be https"),
            ("ftp://93.184.216.34/hook", "must be https"),
            ("https://127.0.0.1/hook", "internal address"),
            ("https://[::1]:8443/hook", "internal address"),
            ("https://169.254.169.254/latest/meta-data", "internal address"),
            ("https://localhost/hook", "internal address"),
            ("https://user:pw@93.184.216.34/hook", "credentials"),
            ("not a url", "not a URL"),
        ] {
            let error = check(url, STRICT).await.unwrap_err();
            assert!(error.0.contains(why), "{url}: {error}");
        }
        assert!(check("https://93.184.216.34/hook", STRICT).await.is_ok());
        let open = Policy { allow_http: true, allow_private: true };
        assert!(check("http://127.0.0.1:9000/hook", open).await.is_ok());
        assert!(check("http://localhost:9000/hook", open).await.is_ok());
    }

    #[test]
    fn address_literals_are_held_to_the_policy_at_send_time() {
        let url = Url::parse("https://10.0.0.5/hook").unwrap();
        assert!(!literal_allowed(&url, STRICT));
        assert!(literal_allowed(&url, Policy { allow_http: false, allow_private: true }));
        assert!(literal_allowed(&Url::parse("https://example.org/hook").unwrap(), STRICT));
    }
}
