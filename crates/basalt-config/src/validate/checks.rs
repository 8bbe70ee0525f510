//! Small value checks shared by the validators.

use std::net::IpAddr;

use base64::Engine;
use ipnet::IpNet;

/// Parses an IP address.
pub fn ip(text: &str) -> Option<IpAddr> {
    text.parse().ok()
}

/// Parses a CIDR such as `10.0.0.0/8`.
pub fn cidr(text: &str) -> Option<IpNet> {
    text.parse().ok()
}

/// Parses a CIDR, or a bare IP as a host prefix (`/32`, `/128`), as Talos accepts for addresses.
pub fn cidr_or_ip(text: &str) -> Option<IpNet> {
    cidr(text).or_else(|| ip(text).map(IpNet::from))
}

/// A subnet filter as Talos takes them: a CIDR or IP, optionally negated with `!`.
pub fn subnet_filter(text: &str) -> Option<IpNet> {
    cidr_or_ip(text.strip_prefix('!').unwrap_or(text))
}

/// One DNS label: 1–63 of `[A-Za-z0-9-]`, not starting or ending with `-`.
pub fn dns_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// A cluster name: lowercase letters, digits, `-` and `.`, at most 63 characters,
/// starting and ending with a letter or digit.
pub fn cluster_name(name: &str) -> bool {
    name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A DNS name (one trailing dot allowed), at most 253 characters.
pub fn dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty() && name.len() <= 253 && name.split('.').all(dns_label)
}

/// A certificate SAN: an IP address or a DNS name (a leading `*.` wildcard is allowed).
pub fn san(text: &str) -> bool {
    ip(text).is_some() || dns_name(text.strip_prefix("*.").unwrap_or(text))
}

/// Decodes standard or URL-safe base64 (padded or not).
pub fn base64_any(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(text.trim().as_bytes()).ok())
}

/// A Kubernetes bootstrap token: `[a-z0-9]{6}.[a-z0-9]{16}`.
pub fn bootstrap_token(text: &str) -> bool {
    let ok = |s: &str, n: usize| {
        s.len() == n
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    matches!(text.split_once('.'), Some((id, secret)) if ok(id, 6) && ok(secret, 16))
}

/// A Go duration such as `2m0s`, `8760h`, `1.5h`, `0`.
pub fn go_duration(text: &str) -> bool {
    crate::duration::parse_go_duration(text.strip_prefix('-').unwrap_or(text)).is_some()
}

/// An http(s) URL with a host.
pub fn http_url(text: &str) -> Option<url::Url> {
    let u = url::Url::parse(text).ok()?;
    (matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
        .then_some(u)
}

/// A sysctl/sysfs key such as `net.ipv4.ip_forward` or `net/ipv6/conf/eth0.100/disable_ipv6`.
pub fn kernel_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 255
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':'))
        && !key.starts_with(['.', '/'])
        && !key.ends_with(['.', '/'])
        && !key.contains("..")
        && !key.contains("//")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for ok in ["2m0s", "8760h0m0s", "1.5h", "0", "300ms", "10s"] {
            assert!(go_duration(ok), "{ok}");
        }
        for bad in ["", "10", "1x", "h", "1.2.3s", "1h 2m"] {
            assert!(!go_duration(bad), "{bad}");
        }
    }

    #[test]
    fn names_and_tokens() {
        assert!(dns_name("cluster.local"));
        assert!(!dns_name("bad_name.local"));
        assert!(san("*.example.com") && san("10.0.0.1") && san("fd00::1"));
        assert!(!san("a b"));
        assert!(bootstrap_token("abcdef.0123456789abcdef"));
        assert!(!bootstrap_token("ABCDEF.0123456789abcdef"));
        assert!(
            kernel_key("net.ipv4.ip_forward") && kernel_key("net/ipv6/conf/eth0.100/disable_ipv6")
        );
        assert!(!kernel_key("net..x") && !kernel_key("a b"));
    }

    #[test]
    fn subnets() {
        assert!(subnet_filter("!10.0.0.3/32").is_some());
        assert!(subnet_filter("fdc7::/16").is_some());
        assert!(subnet_filter("10.0.0.0/33").is_none());
        assert_eq!(
            base64_any("0raF93qnkMvF-FZNuvyGozXNdLiT2FOWSlyBaW4PR-w=").map(|b| b.len()),
            Some(32)
        );
    }
}
