//! The address guard of outbound bridge traffic: before Ponte connects to a bridge's endpoint
//! it resolves the host and refuses loopback, private, link-local, unique-local, shared
//! (CGNAT), unspecified, multicast and broadcast addresses (IPv4-mapped IPv6 forms included),
//! and hosts that do not resolve, unless the bridge says `allow_private`. It hands back the
//! addresses it checked, and [`GuardedResolver`] puts the same check inside the HTTP client's
//! name resolution, so a connection only ever goes to an address that passed (no window for
//! DNS rebinding between the check and the connect).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why the guard refused an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The URL has no host, or no port for its scheme.
    #[error("endpoint has no host or port")]
    NoHost,
    /// The host gave no address.
    #[error("endpoint host {host} does not resolve")]
    Unresolvable { host: String },
    /// One of the host's addresses is in a range outbound traffic may not reach.
    #[error(
        "endpoint host {host} resolves to {addr}, a {class} address (the bridge does not allow private addresses)"
    )]
    Forbidden {
        host: String,
        addr: IpAddr,
        class: AddressClass,
    },
}

/// The ranges the guard refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Loopback,
    /// 10/8, 172.16/12, 192.168/16.
    Private,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// fc00::/7.
    UniqueLocal,
    /// 100.64/10 (carrier-grade NAT).
    Shared,
    /// 0.0.0.0, `::`, and the rest of 0/8 ("this network").
    Unspecified,
    Multicast,
    /// 255.255.255.255.
    Broadcast,
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::LinkLocal => "link-local",
            AddressClass::UniqueLocal => "unique-local",
            AddressClass::Shared => "shared (CGNAT)",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
        })
    }
}

/// The refused range `ip` is in, if any. IPv4 addresses written as IPv6 (`::ffff:a.b.c.d`)
/// are judged as the IPv4 address they carry.
pub fn forbidden_class(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some(AddressClass::Loopback)
    } else if ip.is_private() {
        Some(AddressClass::Private)
    } else if ip.is_link_local() {
        Some(AddressClass::LinkLocal)
    } else if a == 100 && (64..128).contains(&b) {
        Some(AddressClass::Shared)
    } else if a == 0 {
        Some(AddressClass::Unspecified)
    } else if ip.is_multicast() {
        Some(AddressClass::Multicast)
    } else if ip.is_broadcast() {
        Some(AddressClass::Broadcast)
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    if ip.is_loopback() {
        Some(AddressClass::Loopback)
    } else if ip.is_unspecified() {
        Some(AddressClass::Unspecified)
    } else if ip.is_unicast_link_local() {
        Some(AddressClass::LinkLocal)
    } else if ip.is_unique_local() {
        Some(AddressClass::UniqueLocal)
    } else if ip.is_multicast() {
        Some(AddressClass::Multicast)
    } else {
        None
    }
}

/// Resolves `host` (a name or a literal address, IPv6 without brackets) and checks every
/// address: one refused address refuses the host, so a name cannot smuggle a private address
/// beside a public one. With `allow_private`, anything that resolves passes.
pub async fn resolve(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, Refusal> {
    let unresolvable = || Refusal::Unresolvable {
        host: host.to_string(),
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| unresolvable())?
        .collect();
    if addrs.is_empty() {
        return Err(unresolvable());
    }
    if !allow_private {
        for addr in &addrs {
            if let Some(class) = forbidden_class(addr.ip()) {
                return Err(Refusal::Forbidden {
                    host: host.to_string(),
                    addr: addr.ip(),
                    class,
                });
            }
        }
    }
    Ok(addrs)
}

/// Checks a URL's host and port (the scheme's default port when none is written); the
/// checked addresses on success.
pub async fn check(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, Refusal> {
    let port = url.port_or_known_default().ok_or(Refusal::NoHost)?;
    let host = url.host_str().ok_or(Refusal::NoHost)?;
    // An IPv6 literal is written in brackets in a URL, bare for a lookup.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    resolve(host, port, allow_private).await
}

/// The HTTP client's name resolver with the guard inside: every name the client resolves to
/// open a connection goes through [`resolve`], and the client connects only to the addresses
/// that came back from it. (A URL whose host is a literal address never reaches a resolver;
/// [`check`] before the request covers those, and a literal cannot be rebound.)
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: the client puts the URL's port (or the scheme's) in its place.
            let addrs = resolve(&host, 0, allow_private).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Option<AddressClass> {
        forbidden_class(text.parse().unwrap())
    }

    #[test]
    fn each_refused_ipv4_range_is_classified() {
        use AddressClass::*;
        assert_eq!(class("127.0.0.1"), Some(Loopback));
        assert_eq!(class("127.255.0.9"), Some(Loopback));
        assert_eq!(class("10.1.2.3"), Some(Private));
        assert_eq!(class("172.16.0.1"), Some(Private));
        assert_eq!(class("172.31.255.255"), Some(Private));
        assert_eq!(class("192.168.1.1"), Some(Private));
        assert_eq!(class("169.254.169.254"), Some(LinkLocal));
        assert_eq!(class("100.64.0.1"), Some(Shared));
        assert_eq!(class("100.127.255.255"), Some(Shared));
        assert_eq!(class("0.0.0.0"), Some(Unspecified));
        assert_eq!(class("0.1.2.3"), Some(Unspecified));
        assert_eq!(class("224.0.0.1"), Some(Multicast));
        assert_eq!(class("239.255.255.250"), Some(Multicast));
        assert_eq!(class("255.255.255.255"), Some(Broadcast));
    }

    #[test]
    fn public_ipv4_neighbours_of_refused_ranges_pass() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "11.0.0.1",
            "192.169.0.1",
            "223.255.255.255",
        ] {
            assert_eq!(class(ip), None, "{ip}");
        }
    }

    #[test]
    fn each_refused_ipv6_range_is_classified() {
        use AddressClass::*;
        assert_eq!(class("::1"), Some(Loopback));
        assert_eq!(class("::"), Some(Unspecified));
        assert_eq!(class("fe80::1"), Some(LinkLocal));
        assert_eq!(class("febf::1"), Some(LinkLocal));
        assert_eq!(class("fc00::1"), Some(UniqueLocal));
        assert_eq!(class("fd12:3456::1"), Some(UniqueLocal));
        assert_eq!(class("ff02::1"), Some(Multicast));
        assert_eq!(class("2001:4860:4860::8888"), None);
        assert_eq!(class("2606:4700::1111"), None);
        assert_eq!(class("fec0::1"), None);
    }

    #[test]
    fn ipv4_mapped_ipv6_is_judged_as_its_ipv4_address() {
        use AddressClass::*;
        assert_eq!(class("::ffff:127.0.0.1"), Some(Loopback));
        assert_eq!(class("::ffff:10.0.0.1"), Some(Private));
        assert_eq!(class("::ffff:192.168.0.10"), Some(Private));
        assert_eq!(class("::ffff:169.254.169.254"), Some(LinkLocal));
        assert_eq!(class("::ffff:100.64.1.1"), Some(Shared));
        assert_eq!(class("::ffff:0.0.0.0"), Some(Unspecified));
        assert_eq!(class("::ffff:8.8.8.8"), None);
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[tokio::test]
    async fn localhost_and_literal_private_addresses_are_refused() {
        for endpoint in [
            "http://localhost:8080/hook",
            "http://127.0.0.1/hook",
            "http://[::1]:9000/hook",
            "https://10.0.0.5/hook",
            "http://[::ffff:192.168.1.1]/hook",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let refusal = check(&url(endpoint), false).await.unwrap_err();
            assert!(
                matches!(refusal, Refusal::Forbidden { .. }),
                "{endpoint}: {refusal}"
            );
        }
        let refusal = check(&url("http://localhost/hook"), false)
            .await
            .unwrap_err();
        assert!(refusal.to_string().contains("loopback"), "{refusal}");
    }

    #[tokio::test]
    async fn allow_private_passes_what_resolves_with_the_checked_addresses() {
        let addrs = check(&url("http://127.0.0.1:8080/hook"), true)
            .await
            .unwrap();
        assert_eq!(addrs, vec!["127.0.0.1:8080".parse().unwrap()]);
        let addrs = check(&url("https://[::1]/hook"), true).await.unwrap();
        assert_eq!(addrs, vec!["[::1]:443".parse().unwrap()]);
        let addrs = check(&url("http://localhost/hook"), true).await.unwrap();
        assert!(!addrs.is_empty());
        assert!(
            addrs
                .iter()
                .all(|addr| addr.ip().is_loopback() && addr.port() == 80)
        );
    }

    #[tokio::test]
    async fn a_public_literal_passes_without_a_lookup() {
        let addrs = check(&url("https://8.8.8.8/hook"), false).await.unwrap();
        assert_eq!(addrs, vec!["8.8.8.8:443".parse().unwrap()]);
    }

    #[tokio::test]
    async fn a_host_that_does_not_resolve_is_refused_even_when_private_is_allowed() {
        // `.invalid` never resolves (RFC 6761).
        for allow_private in [false, true] {
            let refusal = check(&url("http://no-such-host.invalid/hook"), allow_private)
                .await
                .unwrap_err();
            assert_eq!(
                refusal,
                Refusal::Unresolvable {
                    host: "no-such-host.invalid".into()
                }
            );
        }
    }

    #[tokio::test]
    async fn the_resolver_refuses_what_the_guard_refuses() {
        let name: Name = "localhost".parse().unwrap();
        let strict = GuardedResolver {
            allow_private: false,
        };
        assert!(strict.resolve(name).await.is_err());
        let permissive = GuardedResolver {
            allow_private: true,
        };
        let addrs: Vec<_> = permissive
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
    }
}
