//! Where shoppers reach this server: the base of every link it hands out (QR payloads, redirects,
//! pay pages), and the origins a shopper may be sent back to.
//!
//! Links come from configuration (`public_url`). Without it, a request's `Host` is used only
//! when it names this very server: the bound address, `localhost` on a loopback or all-address
//! bind, one of this machine's own addresses when bound to all of them, or a configured
//! `public_hosts` entry, always with the bound port. Anything else (`127.0.0.1:8080@evil.example`,
//! another name, another port) falls back to the bound address, so a forged `Host` can never
//! point a stored payment link elsewhere.

use crate::config::Config;
use axum::http::{header, HeaderMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use url::Url;

/// The base URL for links made while answering a request with these headers.
pub fn base(config: &Config, bound: SocketAddr, headers: &HeaderMap) -> Url {
    if let Some(url) = &config.public_url {
        return url.clone();
    }
    let host = headers.get(header::HOST).and_then(|host| host.to_str().ok());
    if let Some(host) = host.filter(|host| names_this_server(host, bound, &config.public_hosts)) {
        if let Ok(url) = Url::parse(&format!("http://{host}/")) {
            return url;
        }
    }
    bound_base(bound)
}

/// `http://<bound address>/`, with the loopback address for a bind to all addresses.
pub fn bound_base(bound: SocketAddr) -> Url {
    let address = if bound.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), bound.port())
    } else {
        bound
    };
    Url::parse(&format!("http://{address}/")).expect("a socket address makes a URL")
}

/// Whether a `Host` header value names this server (see the module documentation).
pub fn names_this_server(host: &str, bound: SocketAddr, public_hosts: &[String]) -> bool {
    let host = host.trim().to_ascii_lowercase();
    if public_hosts.contains(&host) {
        return true;
    }
    let Some((name, port)) = split_authority(&host) else { return false };
    if port != bound.port() {
        return false;
    }
    if name == "localhost" {
        return bound.ip().is_loopback() || bound.ip().is_unspecified();
    }
    let Ok(ip) = name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() else {
        return false;
    };
    if bound.ip().is_unspecified() {
        is_local_address(ip)
    } else {
        ip == bound.ip()
    }
}

/// `name` and `port` of `name:port` or `[v6]:port`; `None` for anything else (user info,
/// paths, a missing or malformed port).
fn split_authority(host: &str) -> Option<(&str, u16)> {
    let (name, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        (&host[..=end], host[end + 1..].strip_prefix(':')?)
    } else {
        host.rsplit_once(':')?
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((name, port.parse().ok()?))
}

/// Whether `ip` is one of this machine's own addresses: binding a socket to it succeeds only then.
fn is_local_address(ip: IpAddr) -> bool {
    !ip.is_unspecified() && !ip.is_multicast() && UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(address: &str) -> SocketAddr {
        address.parse().unwrap()
    }

    #[test]
    fn only_the_bound_address_and_localhost_name_a_loopback_server() {
        let server = bound("127.0.0.1:8080");
        assert!(names_this_server("127.0.0.1:8080", server, &[]));
        assert!(names_this_server("LOCALHOST:8080", server, &[]));
        for forged in [
            "127.0.0.1:8080@evil.example",
            "evil.example:8080",
            "127.0.0.1:8081",
            "127.0.0.1",
            "127.0.0.2:8080",
            "127.0.0.1:8080/x",
            "127.0.0.1:+8080",
            "user@127.0.0.1:8080",
            "2130706433:8080",
            "",
        ] {
            assert!(!names_this_server(forged, server, &[]), "{forged}");
        }
    }

    #[test]
    fn a_server_on_every_address_accepts_its_own_addresses_only() {
        let server = bound("0.0.0.0:8080");
        assert!(names_this_server("127.0.0.1:8080", server, &[]));
        assert!(names_this_server("localhost:8080", server, &[]));
        // Documentation addresses are never this machine's.
        assert!(!names_this_server("192.0.2.7:8080", server, &[]));
        assert!(!names_this_server("0.0.0.0:8080", server, &[]));
    }

    #[test]
    fn configured_public_hosts_are_accepted() {
        let server = bound("0.0.0.0:8080");
        let hosts = ["shop-demo.lan:8080".to_owned()];
        assert!(names_this_server("Shop-Demo.lan:8080", server, &hosts));
        assert!(!names_this_server("shop-demo.lan:9090", server, &hosts));
    }

    #[test]
    fn a_forged_host_falls_back_to_the_bound_address() {
        let config = Config::for_tests(std::path::PathBuf::from("data"));
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8080@evil.example".parse().unwrap());
        assert_eq!(base(&config, bound("127.0.0.1:8080"), &headers).as_str(), "http://127.0.0.1:8080/");
        headers.insert(header::HOST, "localhost:8080".parse().unwrap());
        assert_eq!(base(&config, bound("127.0.0.1:8080"), &headers).as_str(), "http://localhost:8080/");
        assert_eq!(bound_base(bound("0.0.0.0:9000")).as_str(), "http://127.0.0.1:9000/");
    }
}
