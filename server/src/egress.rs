//! Where the server may send requests on a merchant's behalf (webhooks): public addresses only.
//!
//! A webhook URL is chosen by an admin, and its deliveries are set off by shoppers, so it must
//! not become a way into the server's own network. Loopback, private, link-local (cloud metadata),
//! shared, reserved and multicast addresses are refused in every spelling: the URL's host is
//! parsed as a browser would (`127.1`, `2130706433`, `0x7f.1` are all 127.0.0.1), IPv6 forms that
//! carry an IPv4 address (`::ffff:127.0.0.1`, NAT64, 6to4) are judged by that address, and names
//! are resolved by [`GuardedResolver`] at delivery time, which hands the HTTP client only the
//! addresses that passed (so a name cannot resolve one way when checked and another when used).
//! Networks named in `webhook_allowed_networks` are let through, for receivers on the merchant's
//! own network.

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

/// Which addresses requests may go to.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    /// Internal networks that are allowed after all.
    pub allowed: Vec<IpNet>,
}

/// Why a request was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The address (or every address the name resolves to) is internal.
    InternalAddress,
    /// The name does not resolve.
    UnknownName,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::InternalAddress => {
                "the address is on a loopback, private or otherwise internal network, which webhooks may not reach"
            }
            Refusal::UnknownName => "the host name could not be resolved",
        })
    }
}

impl std::error::Error for Refusal {}

impl EgressPolicy {
    /// Whether a request may go to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        !is_internal(ip) || self.allowed.iter().any(|network| network.contains(&ip))
    }

    /// Checks a URL's host where that can be done without resolving it: an address literal, or
    /// a name that always means this machine (`localhost`).
    pub fn check_url(&self, url: &url::Url) -> Result<(), Refusal> {
        match url.host() {
            Some(url::Host::Ipv4(ip)) if !self.allows(IpAddr::V4(ip)) => Err(Refusal::InternalAddress),
            Some(url::Host::Ipv6(ip)) if !self.allows(IpAddr::V6(ip)) => Err(Refusal::InternalAddress),
            Some(url::Host::Domain(name))
                if is_local_name(name) && !self.allows(IpAddr::V4(Ipv4Addr::LOCALHOST)) =>
            {
                Err(Refusal::InternalAddress)
            }
            None => Err(Refusal::UnknownName),
            _ => Ok(()),
        }
    }
}

/// Names that resolve to this machine by definition (RFC 6761).
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Whether an address is not a public unicast address of the internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_internal_v4(ip),
        IpAddr::V6(ip) => is_internal_v6(ip),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network", including 0.0.0.0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224 // multicast, reserved, broadcast
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_internal_v4(v4);
    }
    let segments = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || segments[0] & 0xfe00 == 0xfc00 // unique local
        || segments[0] & 0xffc0 == 0xfe80 // link-local
        || segments[0] & 0xffc0 == 0xfec0 // site-local (deprecated)
        || segments[0] & 0xff00 == 0xff00 // multicast
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x2001 && segments[1] == 0) // Teredo: hides an IPv4 address
        || (segments[0] == 0x0064 && segments[1] == 0xff9b && segments[2] == 1) // local-use NAT64
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard
        || segments[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
}

/// The IPv4 address an IPv6 address stands for: mapped (`::ffff:a.b.c.d`), NAT64
/// (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let segments = ip.segments();
    let octets = ip.octets();
    if segments[..6] == [0x0064, 0xff9b, 0, 0, 0, 0] {
        return Some(Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]));
    }
    if segments[0] == 0x2002 {
        return Some(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    None
}

/// Resolves names for the webhook client and keeps only allowed addresses; a name with none
/// left is refused with [`Refusal`].
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<EgressPolicy>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<EgressPolicy>) -> Self {
        Self { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await {
                Ok(addresses) => addresses.collect(),
                Err(_) => {
                    return Err(Box::new(Refusal::UnknownName) as Box<dyn std::error::Error + Send + Sync>)
                }
            };
            if found.is_empty() {
                return Err(Box::new(Refusal::UnknownName) as _);
            }
            let allowed: Vec<SocketAddr> =
                found.into_iter().filter(|address| policy.allows(address.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(Refusal::InternalAddress) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The refusal somewhere in an error's chain, if the error is one.
pub fn refusal_in(error: &(dyn std::error::Error + 'static)) -> Option<Refusal> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(refusal) = error.downcast_ref::<Refusal>() {
            return Some(*refusal);
        }
        current = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> url::Url {
        url::Url::parse(text).unwrap()
    }

    #[test]
    fn internal_addresses_are_refused_in_every_spelling() {
        let policy = EgressPolicy::default();
        for target in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f.0.0.1/",
            "http://017700000001/",
            "http://0.0.0.0/",
            "http://0/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[2002:7f00:1::]/",
            "http://[::127.0.0.1]/",
            "http://10.0.0.5/",
            "http://172.20.1.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.100.100.200/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://localhost:9000/",
            "http://api.LOCALHOST./",
        ] {
            assert_eq!(policy.check_url(&url(target)), Err(Refusal::InternalAddress), "{target}");
        }
    }

    #[test]
    fn public_addresses_and_names_pass_the_url_check() {
        let policy = EgressPolicy::default();
        for target in
            ["https://93.184.215.14/hook", "https://[2606:4700::1111]/", "https://hooks.shop.example/"]
        {
            assert_eq!(policy.check_url(&url(target)), Ok(()), "{target}");
        }
    }

    #[test]
    fn named_networks_are_allowed_after_all() {
        let policy =
            EgressPolicy { allowed: vec!["10.1.2.0/24".parse().unwrap(), "127.0.0.0/8".parse().unwrap()] };
        assert!(policy.allows("10.1.2.9".parse().unwrap()));
        assert!(!policy.allows("10.1.3.9".parse().unwrap()));
        assert_eq!(policy.check_url(&url("http://localhost:9000/")), Ok(()));
        assert_eq!(policy.check_url(&url("http://[::ffff:10.1.3.1]/")), Err(Refusal::InternalAddress));
    }

    #[tokio::test]
    async fn names_that_resolve_inward_are_refused_at_resolution() {
        let resolver = GuardedResolver::new(Arc::new(EgressPolicy::default()));
        let error = resolver.resolve("localhost".parse().unwrap()).await.err().expect("refused");
        assert_eq!(refusal_in(error.as_ref()), Some(Refusal::InternalAddress));
        let allowed = GuardedResolver::new(Arc::new(EgressPolicy {
            allowed: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
        }));
        let addresses: Vec<SocketAddr> =
            allowed.resolve("localhost".parse().unwrap()).await.unwrap().collect();
        assert!(!addresses.is_empty());
    }
}
