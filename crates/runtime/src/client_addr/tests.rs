//! Address resolution with peers that tests cannot be over a real socket.

use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, value.parse().unwrap());
    }
    map
}

fn proxies(cidrs: &[&str]) -> Vec<IpNet> {
    cidrs.iter().map(|c| parse_cidr(c).unwrap()).collect()
}

#[test]
fn an_untrusted_peer_is_the_caller_whatever_it_claims() {
    let loopback = NetworkSettings::default().trusted_proxies;
    let claims = headers(&[("x-forwarded-for", "198.51.100.7"), ("x-ottr-client-ip", "198.51.100.8")]);
    assert_eq!(resolve(ip("203.0.113.9"), &claims, &loopback), ip("203.0.113.9"));
}

#[test]
fn a_trusted_peer_is_believed_and_the_edge_header_wins() {
    let loopback = NetworkSettings::default().trusted_proxies;
    let both = headers(&[("x-forwarded-for", "198.51.100.7"), ("x-ottr-client-ip", "198.51.100.8")]);
    assert_eq!(resolve(ip("127.0.0.1"), &both, &loopback), ip("198.51.100.8"));
    let forwarded = headers(&[("x-forwarded-for", "198.51.100.7")]);
    assert_eq!(resolve(ip("::1"), &forwarded, &loopback), ip("198.51.100.7"));
    assert_eq!(resolve(ip("127.0.0.1"), &headers(&[]), &loopback), ip("127.0.0.1"));
}

#[test]
fn forwarded_for_is_walked_from_the_right_only_through_trusted_hops() {
    let lb = proxies(&["10.0.0.0/8", "127.0.0.1"]);
    // spoofed, real client, then a trusted balancer appended by the last hop.
    let chain = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.5, 10.1.1.1")]);
    assert_eq!(resolve(ip("10.0.0.2"), &chain, &lb), ip("203.0.113.5"));
    // The same chain split over two header lines reads the same.
    let split = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.5"), ("x-forwarded-for", "10.1.1.1")]);
    assert_eq!(resolve(ip("10.0.0.2"), &split, &lb), ip("203.0.113.5"));
    // A garbled entry stops the walk at the last hop that could vouch.
    let garbled = headers(&[("x-forwarded-for", "1.2.3.4, not-an-ip, 10.1.1.1")]);
    assert_eq!(resolve(ip("10.0.0.2"), &garbled, &lb), ip("10.1.1.1"));
    // A garbled edge header falls back to the chain.
    let bad_edge = headers(&[("x-ottr-client-ip", "nope"), ("x-forwarded-for", "203.0.113.5")]);
    assert_eq!(resolve(ip("127.0.0.1"), &bad_edge, &lb), ip("203.0.113.5"));
}

#[test]
fn ipv4_mapped_peers_count_as_their_ipv4_address() {
    let loopback = NetworkSettings::default().trusted_proxies;
    let forwarded = headers(&[("x-forwarded-for", "198.51.100.7")]);
    assert_eq!(resolve(ip("::ffff:127.0.0.1"), &forwarded, &loopback), ip("198.51.100.7"));
    assert_eq!(resolve(ip("::ffff:203.0.113.9"), &forwarded, &loopback), ip("203.0.113.9"));
}

#[test]
fn trusted_proxies_read_from_a_list_or_a_comma_separated_string() {
    let listed: NetworkSettings = serde_json::from_str(r#"{"trusted_proxies": ["10.0.0.0/8", "::1"]}"#).unwrap();
    assert_eq!(listed.trusted_proxies, proxies(&["10.0.0.0/8", "::1/128"]));
    let env: NetworkSettings = serde_json::from_str(r#"{"trusted_proxies": "10.0.0.0/8, 192.168.1.1"}"#).unwrap();
    assert_eq!(env.trusted_proxies, proxies(&["10.0.0.0/8", "192.168.1.1/32"]));
    assert!(serde_json::from_str::<NetworkSettings>(r#"{"trusted_proxies": "10.0.0.0/33"}"#).is_err());
}
