//! Which addresses an origin may be on. Classifies every IPv4 and IPv6 address, unwrapping
//! IPv6 forms that embed an IPv4 address (mapped, compatible, 6to4, NAT64, Teredo), so that a
//! private target cannot hide behind one.
//!
//! Owns: the address policy. Must not: resolve names (see `resolve.rs`) or know URLs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How an address may be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrClass {
    Public,
    /// 127.0.0.0/8, ::1, and 0.0.0.0 / :: (which connect to the local host).
    Loopback,
    /// Private (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10), CGNAT (100.64/10),
    /// multicast, broadcast, documentation, benchmarking and reserved ranges.
    Private,
}

/// Address policy from `[origin] allow_loopback` / `allow_private`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddrPolicy {
    pub allow_loopback: bool,
    pub allow_private: bool,
}

impl AddrPolicy {
    pub fn allows(&self, ip: IpAddr) -> bool {
        match classify(ip) {
            AddrClass::Public => true,
            AddrClass::Loopback => self.allow_loopback,
            AddrClass::Private => self.allow_private,
        }
    }
}

pub fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddrClass {
    let o = ip.octets();
    if o[0] == 127 || ip.is_unspecified() || o[0] == 0 {
        return AddrClass::Loopback;
    }
    let private = ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10 CGNAT
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0.0/24 IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18.0.0/15 benchmarking
        || o[0] >= 240; // 240.0.0.0/4 reserved
    if private {
        AddrClass::Private
    } else {
        AddrClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddrClass {
    if ip.is_loopback() || ip.is_unspecified() {
        return AddrClass::Loopback;
    }
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let s = ip.segments();
    let private = (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
        || (s[0] & 0xffc0) == 0xfec0 // fec0::/10 site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0); // 100::/64 discard
    if private {
        AddrClass::Private
    } else {
        AddrClass::Public
    }
}

/// The IPv4 address carried inside an IPv6 one, for every transition form that routes to it.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4); // ::ffff:a.b.c.d
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        return Some(tail); // ::a.b.c.d (deprecated "compatible")
    }
    if s[0] == 0x0064 && s[1] == 0xff9b {
        return Some(tail); // 64:ff9b::/96 and 64:ff9b:1::/48 NAT64
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])); // 6to4
    }
    if s[0] == 0x2001 && s[1] == 0 {
        // Teredo: the client address is the last 32 bits, inverted.
        return Some(Ipv4Addr::new(!o[12], !o[13], !o[14], !o[15]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_table() {
        use AddrClass::*;
        for (ip, want) in [
            ("8.8.8.8", Public),
            ("1.1.1.1", Public),
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("0.0.0.0", Loopback),
            ("10.0.0.1", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("172.32.0.1", Public),
            ("192.168.1.1", Private),
            ("169.254.169.254", Private),
            ("100.64.0.1", Private),
            ("100.127.255.255", Private),
            ("100.63.255.255", Public),
            ("100.128.0.0", Public),
            ("224.0.0.1", Private),
            ("255.255.255.255", Private),
            ("198.18.0.1", Private),
            ("192.0.2.1", Private),
            ("::1", Loopback),
            ("::", Loopback),
            ("2606:4700::1111", Public),
            ("fc00::1", Private),
            ("fd12:3456::1", Private),
            ("fe80::1", Private),
            ("ff02::1", Private),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:8.8.8.8", Public),
            ("::127.0.0.1", Loopback),
            ("64:ff9b::7f00:1", Loopback),
            ("64:ff9b::a00:1", Private),
            ("2002:7f00:1::", Loopback),
            ("2002:a00:1::", Private),
            ("2002:808:808::", Public),
            // Teredo with client 127.0.0.1 (inverted: 80ff:fffe).
            ("2001:0:4136:e378:8000:63bf:80ff:fffe", Loopback),
            ("2001:db8::1", Private),
        ] {
            assert_eq!(classify(ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn policy() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(!AddrPolicy::default().allows(ip));
        assert!(AddrPolicy {
            allow_loopback: true,
            allow_private: false
        }
        .allows(ip));
        let ten: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(!AddrPolicy {
            allow_loopback: true,
            allow_private: false
        }
        .allows(ten));
        assert!(AddrPolicy {
            allow_loopback: false,
            allow_private: true
        }
        .allows(ten));
    }
}
