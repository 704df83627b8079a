//! Webhook target policy against server-side request forgery: the pure part.
//!
//! [`WebhookUrl`] is an endpoint URL that passed the syntactic rules: http or https, a host, no
//! userinfo, no fragment, at most 2048 characters. [`AddressPolicy`] decides whether one IP
//! address may be connected to. The caller resolves the host, refuses the target if *any*
//! address is blocked, and connects only to the vetted addresses (no second lookup) — at
//! registration and again at every send, because DNS changes.
//!
//! Blocked: loopback, private, link-local (including 169.254.169.254 instance metadata),
//! shared address space (CGNAT), unique local (including fd00:ec2::254), multicast,
//! unspecified, documentation, broadcast and other reserved ranges, and IPv6 forms that embed a
//! blocked IPv4 address (IPv4-mapped, NAT64, 6to4) or tunnel to an unknown one (Teredo,
//! IPv4-compatible). With [`AddressPolicy::allow_loopback`] (development and tests only) the
//! literal loopback ranges 127.0.0.0/8 and ::1 are permitted, and nothing else.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Longest accepted endpoint URL, in characters.
const MAX_URL_LEN: usize = 2048;

/// An endpoint URL that satisfies the syntactic target policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    url: Url,
    host: Host<String>,
    port: u16,
}

/// Why a string is not an acceptable webhook URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The URL is longer than 2048 characters.
    #[error("URL is longer than 2048 characters")]
    TooLong,
    /// The string is not a URL.
    #[error("not a valid URL: {0}")]
    Invalid(url::ParseError),
    /// The scheme is not http or https.
    #[error("URL scheme must be http or https, not {0:?}")]
    UnsupportedScheme(String),
    /// The URL has no host.
    #[error("URL must have a host")]
    MissingHost,
    /// The URL contains a username or password.
    #[error("URL must not contain credentials")]
    Credentials,
    /// The URL contains a fragment.
    #[error("URL must not contain a fragment")]
    Fragment,
}

impl WebhookUrl {
    /// Parses an endpoint URL: at most 2048 characters, http or https, with a host, without
    /// userinfo or fragment.
    ///
    /// # Errors
    ///
    /// See [`TargetError`].
    pub fn parse(s: &str) -> Result<Self, TargetError> {
        if s.chars().count() > MAX_URL_LEN {
            return Err(TargetError::TooLong);
        }
        let url = Url::parse(s).map_err(TargetError::Invalid)?;
        // Normalisation (punycode, percent-encoding) can lengthen the URL we will store and send.
        if url.as_str().len() > MAX_URL_LEN {
            return Err(TargetError::TooLong);
        }
        let default_port = match url.scheme() {
            "http" => 80,
            "https" => 443,
            other => return Err(TargetError::UnsupportedScheme(other.to_owned())),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::Credentials);
        }
        if url.fragment().is_some() {
            return Err(TargetError::Fragment);
        }
        let host = match url.host() {
            Some(Host::Domain("")) | None => return Err(TargetError::MissingHost),
            Some(host) => host.to_owned(),
        };
        let port = url.port().unwrap_or(default_port);
        Ok(Self { url, host, port })
    }

    /// The URL as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// The parsed URL.
    #[must_use]
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The host: a domain name to resolve, or an IP literal to check directly.
    #[must_use]
    pub fn host(&self) -> Host<&str> {
        match &self.host {
            Host::Domain(domain) => Host::Domain(domain),
            Host::Ipv4(ip) => Host::Ipv4(*ip),
            Host::Ipv6(ip) => Host::Ipv6(*ip),
        }
    }

    /// The explicit port, or 80 for http and 443 for https.
    #[must_use]
    pub fn port_or_default(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.url.as_str())
    }
}

/// Why an address may not be connected to. Each variant carries the offending address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlockedReason {
    /// 127.0.0.0/8 or ::1 (or loopback embedded in an IPv6 address).
    #[error("address {0} is a loopback address")]
    Loopback(IpAddr),
    /// 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, or deprecated site-local fec0::/10.
    #[error("address {0} is in a private range")]
    Private(IpAddr),
    /// 169.254.0.0/16 (including instance metadata) or fe80::/10.
    #[error("address {0} is link-local")]
    LinkLocal(IpAddr),
    /// 100.64.0.0/10, carrier-grade NAT.
    #[error("address {0} is in the shared (carrier-grade NAT) address space")]
    SharedAddressSpace(IpAddr),
    /// fc00::/7 (including fd00:ec2::254 instance metadata).
    #[error("address {0} is a unique local address")]
    UniqueLocal(IpAddr),
    /// 224.0.0.0/4 or ff00::/8.
    #[error("address {0} is multicast")]
    Multicast(IpAddr),
    /// 0.0.0.0 or ::.
    #[error("address {0} is unspecified")]
    Unspecified(IpAddr),
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32 or 3fff::/20.
    #[error("address {0} is reserved for documentation")]
    Documentation(IpAddr),
    /// 255.255.255.255.
    #[error("address {0} is the broadcast address")]
    Broadcast(IpAddr),
    /// Any other special-purpose range: 0.0.0.0/8, 192.0.0.0/24, 198.18.0.0/15, 240.0.0.0/4,
    /// ::/8 outside :: and ::1 (IPv4-compatible), 100::/64, Teredo 2001::/32, 2001:2::/48.
    #[error("address {0} is in a reserved or special-purpose range")]
    Reserved(IpAddr),
}

impl BlockedReason {
    /// The address that was refused.
    #[must_use]
    pub fn ip(&self) -> IpAddr {
        match *self {
            Self::Loopback(ip)
            | Self::Private(ip)
            | Self::LinkLocal(ip)
            | Self::SharedAddressSpace(ip)
            | Self::UniqueLocal(ip)
            | Self::Multicast(ip)
            | Self::Unspecified(ip)
            | Self::Documentation(ip)
            | Self::Broadcast(ip)
            | Self::Reserved(ip) => ip,
        }
    }
}

/// Builds a [`BlockedReason`] for an address (a variant constructor).
type Reason = fn(IpAddr) -> BlockedReason;

/// Blocked IPv4 ranges, most specific first: (network, prefix length, reason).
const BLOCKED_V4: &[([u8; 4], u32, Reason)] = &[
    ([0, 0, 0, 0], 32, BlockedReason::Unspecified),
    ([0, 0, 0, 0], 8, BlockedReason::Reserved),
    ([10, 0, 0, 0], 8, BlockedReason::Private),
    ([100, 64, 0, 0], 10, BlockedReason::SharedAddressSpace),
    ([127, 0, 0, 0], 8, BlockedReason::Loopback),
    ([169, 254, 0, 0], 16, BlockedReason::LinkLocal),
    ([172, 16, 0, 0], 12, BlockedReason::Private),
    ([192, 0, 0, 0], 24, BlockedReason::Reserved),
    ([192, 0, 2, 0], 24, BlockedReason::Documentation),
    ([192, 168, 0, 0], 16, BlockedReason::Private),
    ([198, 18, 0, 0], 15, BlockedReason::Reserved),
    ([198, 51, 100, 0], 24, BlockedReason::Documentation),
    ([203, 0, 113, 0], 24, BlockedReason::Documentation),
    ([224, 0, 0, 0], 4, BlockedReason::Multicast),
    ([255, 255, 255, 255], 32, BlockedReason::Broadcast),
    ([240, 0, 0, 0], 4, BlockedReason::Reserved),
];

/// Blocked IPv6 ranges that embed no IPv4 address: (network, prefix length, reason).
/// `::`, `::1` and the embedding ranges are handled before this table, which then blocks the
/// rest of `::/8` (IPv4-compatible and other reserved forms).
const BLOCKED_V6: &[(u128, u32, Reason)] = &[
    (0, 8, BlockedReason::Reserved),
    (0x0100_0000_0000_0000 << 64, 64, BlockedReason::Reserved),
    (0x2001_0000 << 96, 32, BlockedReason::Reserved),
    (0x2001_0002 << 96, 48, BlockedReason::Reserved),
    // NAT64 local-use 64:ff9b:1::/48 (RFC 8215): where the IPv4 address sits depends on the
    // operator's prefix length, so none of it can be vetted.
    (0x0064_ff9b_0001 << 80, 48, BlockedReason::Reserved),
    (0x2001_0db8 << 96, 32, BlockedReason::Documentation),
    (0x3fff << 112, 20, BlockedReason::Documentation),
    (0xfc00 << 112, 7, BlockedReason::UniqueLocal),
    (0xfe80 << 112, 10, BlockedReason::LinkLocal),
    (0xfec0 << 112, 10, BlockedReason::Private),
    (0xff00 << 112, 8, BlockedReason::Multicast),
];

/// IPv6 ranges embedding an IPv4 address: (network, prefix length, right shift extracting it).
const EMBEDDING_V6: &[(u128, u32, u32)] = &[
    // IPv4-mapped ::ffff:a.b.c.d
    (0xffff << 32, 96, 0),
    // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052)
    (0x0064_ff9b << 96, 96, 0),
    // 6to4 2002:a.b.c.d::/48 (RFC 3056), IPv4 in bits 16..48
    (0x2002 << 112, 16, 80),
];

/// Which addresses a webhook may be delivered to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Permit 127.0.0.0/8 and ::1 (development and tests only). Loopback embedded in an IPv6
    /// address (e.g. `::ffff:127.0.0.1`) stays blocked.
    pub allow_loopback: bool,
}

impl AddressPolicy {
    /// Checks one resolved (or literal) address.
    ///
    /// # Errors
    ///
    /// The [`BlockedReason`] if the address must not be connected to.
    pub fn check(&self, ip: IpAddr) -> Result<(), BlockedReason> {
        let reason = match ip {
            IpAddr::V4(v4) => v4_reason(v4).filter(|_| !(self.allow_loopback && v4.is_loopback())),
            IpAddr::V6(v6) => v6_reason(v6).filter(|_| !(self.allow_loopback && v6.is_loopback())),
        };
        reason.map_or(Ok(()), |reason| Err(reason(ip)))
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<Reason> {
    let bits = u32::from(ip);
    BLOCKED_V4
        .iter()
        .find(|(net, len, _)| prefix_matches_v4(bits, u32::from_be_bytes(*net), *len))
        .map(|(_, _, reason)| *reason)
}

fn v6_reason(ip: Ipv6Addr) -> Option<Reason> {
    if ip.is_unspecified() {
        return Some(BlockedReason::Unspecified);
    }
    if ip.is_loopback() {
        return Some(BlockedReason::Loopback);
    }
    let bits = u128::from(ip);
    if let Some((_, _, shift)) = EMBEDDING_V6
        .iter()
        .find(|(net, len, _)| prefix_matches_v6(bits, *net, *len))
    {
        // Truncation intended: the embedded address is the 32 bits at `shift`.
        return v4_reason(Ipv4Addr::from((bits >> shift) as u32));
    }
    BLOCKED_V6
        .iter()
        .find(|(net, len, _)| prefix_matches_v6(bits, *net, *len))
        .map(|(_, _, reason)| *reason)
}

fn prefix_matches_v4(bits: u32, net: u32, len: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    bits & mask == net & mask
}

fn prefix_matches_v6(bits: u128, net: u128, len: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    bits & mask == net & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: AddressPolicy = AddressPolicy {
        allow_loopback: false,
    };
    const DEV: AddressPolicy = AddressPolicy {
        allow_loopback: true,
    };

    fn check(policy: AddressPolicy, ip: &str) -> Result<(), BlockedReason> {
        policy.check(ip.parse().expect("valid IP literal"))
    }

    #[test]
    fn address_policy_table() {
        use BlockedReason as B;
        // (address, expected with strict policy, expected with allow_loopback)
        let cases: &[(&str, Option<Reason>, Option<Reason>)] = &[
            // IPv4 loopback
            ("127.0.0.1", Some(B::Loopback), None),
            ("127.5.5.5", Some(B::Loopback), None),
            // IPv4 private and special ranges
            ("10.1.2.3", Some(B::Private), Some(B::Private)),
            ("172.16.0.1", Some(B::Private), Some(B::Private)),
            ("172.31.255.255", Some(B::Private), Some(B::Private)),
            ("172.32.0.1", None, None),
            ("172.15.255.255", None, None),
            ("192.168.1.1", Some(B::Private), Some(B::Private)),
            ("169.254.169.254", Some(B::LinkLocal), Some(B::LinkLocal)),
            (
                "100.64.0.1",
                Some(B::SharedAddressSpace),
                Some(B::SharedAddressSpace),
            ),
            (
                "100.127.255.255",
                Some(B::SharedAddressSpace),
                Some(B::SharedAddressSpace),
            ),
            ("100.128.0.1", None, None),
            ("100.63.255.255", None, None),
            ("0.0.0.0", Some(B::Unspecified), Some(B::Unspecified)),
            ("0.1.2.3", Some(B::Reserved), Some(B::Reserved)),
            ("224.0.0.1", Some(B::Multicast), Some(B::Multicast)),
            ("239.255.255.250", Some(B::Multicast), Some(B::Multicast)),
            ("255.255.255.255", Some(B::Broadcast), Some(B::Broadcast)),
            ("240.0.0.1", Some(B::Reserved), Some(B::Reserved)),
            ("192.0.0.8", Some(B::Reserved), Some(B::Reserved)),
            ("192.0.2.1", Some(B::Documentation), Some(B::Documentation)),
            (
                "198.51.100.7",
                Some(B::Documentation),
                Some(B::Documentation),
            ),
            (
                "203.0.113.9",
                Some(B::Documentation),
                Some(B::Documentation),
            ),
            ("198.18.0.1", Some(B::Reserved), Some(B::Reserved)),
            ("198.19.255.255", Some(B::Reserved), Some(B::Reserved)),
            ("198.20.0.1", None, None),
            // IPv4 public
            ("8.8.8.8", None, None),
            ("1.1.1.1", None, None),
            ("192.0.3.1", None, None),
            ("223.255.255.255", None, None),
            // IPv6 special
            ("::", Some(B::Unspecified), Some(B::Unspecified)),
            ("::1", Some(B::Loopback), None),
            ("fe80::1", Some(B::LinkLocal), Some(B::LinkLocal)),
            ("febf::1", Some(B::LinkLocal), Some(B::LinkLocal)),
            ("fec0::1", Some(B::Private), Some(B::Private)),
            ("fd00:ec2::254", Some(B::UniqueLocal), Some(B::UniqueLocal)),
            ("fc00::1", Some(B::UniqueLocal), Some(B::UniqueLocal)),
            ("ff02::1", Some(B::Multicast), Some(B::Multicast)),
            (
                "2001:db8::1",
                Some(B::Documentation),
                Some(B::Documentation),
            ),
            ("3fff::1", Some(B::Documentation), Some(B::Documentation)),
            ("100::1", Some(B::Reserved), Some(B::Reserved)),
            ("2001:2::1", Some(B::Reserved), Some(B::Reserved)),
            // IPv4-mapped
            ("::ffff:127.0.0.1", Some(B::Loopback), Some(B::Loopback)),
            ("::ffff:10.0.0.1", Some(B::Private), Some(B::Private)),
            (
                "::ffff:169.254.169.254",
                Some(B::LinkLocal),
                Some(B::LinkLocal),
            ),
            ("::ffff:8.8.8.8", None, None),
            // IPv4-compatible and the rest of ::/8
            ("::127.0.0.1", Some(B::Reserved), Some(B::Reserved)),
            ("::8.8.8.8", Some(B::Reserved), Some(B::Reserved)),
            ("::ffff:0:808:808", Some(B::Reserved), Some(B::Reserved)),
            // NAT64
            ("64:ff9b::a9fe:a9fe", Some(B::LinkLocal), Some(B::LinkLocal)),
            ("64:ff9b::7f00:1", Some(B::Loopback), Some(B::Loopback)),
            ("64:ff9b::808:808", None, None),
            ("64:ff9b:1::a00:1", Some(B::Reserved), Some(B::Reserved)),
            ("64:ff9b:1::808:808", Some(B::Reserved), Some(B::Reserved)),
            (
                "64:ff9b:1:a00:1::808:808",
                Some(B::Reserved),
                Some(B::Reserved),
            ),
            // 6to4
            ("2002:a9fe:a9fe::", Some(B::LinkLocal), Some(B::LinkLocal)),
            ("2002:7f00:1::1", Some(B::Loopback), Some(B::Loopback)),
            ("2002:0808:0808::", None, None),
            // Teredo
            ("2001:0::", Some(B::Reserved), Some(B::Reserved)),
            (
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                Some(B::Reserved),
                Some(B::Reserved),
            ),
            // IPv6 public
            ("2606:4700:4700::1111", None, None),
            ("2a00:1450:4001:82a::200e", None, None),
            ("2001:4860:4860::8888", None, None),
        ];
        assert!(cases.len() >= 40);
        for (ip_text, strict, dev) in cases {
            let ip: IpAddr = ip_text.parse().expect("valid IP literal");
            for (policy, expected) in [(STRICT, strict), (DEV, dev)] {
                assert_eq!(
                    check(policy, ip_text),
                    expected.map_or(Ok(()), |reason| Err(reason(ip))),
                    "{ip_text} with {policy:?}"
                );
            }
        }
    }

    #[test]
    fn blocked_reason_names_the_address() {
        let err = check(STRICT, "10.0.0.1").expect_err("private");
        assert_eq!(err.to_string(), "address 10.0.0.1 is in a private range");
        assert_eq!(err.ip(), "10.0.0.1".parse::<IpAddr>().expect("valid"));
        let err = check(STRICT, "::ffff:169.254.169.254").expect_err("metadata");
        assert_eq!(
            err.to_string(),
            "address ::ffff:169.254.169.254 is link-local"
        );
    }

    #[test]
    fn accepts_http_and_https_urls() {
        let url = WebhookUrl::parse("https://example.com/hooks").expect("valid");
        assert_eq!(url.as_str(), "https://example.com/hooks");
        assert_eq!(url.to_string(), "https://example.com/hooks");
        assert_eq!(url.host(), Host::Domain("example.com"));
        assert_eq!(url.port_or_default(), 443);
        assert_eq!(url.url().path(), "/hooks");

        let url = WebhookUrl::parse("http://127.0.0.1:9000/x").expect("valid");
        assert_eq!(url.host(), Host::<&str>::Ipv4(Ipv4Addr::LOCALHOST));
        assert_eq!(url.port_or_default(), 9000);

        let url = WebhookUrl::parse("http://[::1]/?q=1").expect("valid");
        assert_eq!(url.host(), Host::<&str>::Ipv6(Ipv6Addr::LOCALHOST));
        assert_eq!(url.port_or_default(), 80);

        // Numeric hosts are normalised to IP literals, so the address policy sees them.
        let url = WebhookUrl::parse("http://2130706433/").expect("valid");
        assert_eq!(url.host(), Host::<&str>::Ipv4(Ipv4Addr::LOCALHOST));
    }

    #[test]
    fn rejects_bad_urls() {
        let long = format!("https://example.com/{}", "a".repeat(3000));
        let cases = [
            ("ftp://x", TargetError::UnsupportedScheme("ftp".to_owned())),
            (
                "file:///etc/passwd",
                TargetError::UnsupportedScheme("file".to_owned()),
            ),
            ("https://user:pw@example.com", TargetError::Credentials),
            ("https://user@example.com", TargetError::Credentials),
            ("https://example.com/#frag", TargetError::Fragment),
            ("https://example.com/#", TargetError::Fragment),
            (
                "not a url",
                TargetError::Invalid(url::ParseError::RelativeUrlWithoutBase),
            ),
            ("https://", TargetError::Invalid(url::ParseError::EmptyHost)),
            (long.as_str(), TargetError::TooLong),
        ];
        for (input, expected) in cases {
            assert_eq!(WebhookUrl::parse(input), Err(expected), "{input:?}");
        }
        let exactly_max = format!("https://example.com/{}", "a".repeat(2048 - 20));
        assert_eq!(exactly_max.len(), 2048);
        assert!(WebhookUrl::parse(&exactly_max).is_ok());
    }
}
