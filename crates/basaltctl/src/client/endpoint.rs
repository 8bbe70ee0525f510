//! An API endpoint as the user writes it (`host`, `host:port`, `[v6]:port`), with
//! apid's port 50000 when none is given.

use std::fmt;
use std::net::Ipv6Addr;

use rustls::pki_types::ServerName;

/// apid's port.
pub const DEFAULT_PORT: u16 = 50000;

/// Where to connect: a host (name or address, without brackets) and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// DNS name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Endpoint {
    /// Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address
    /// (an `https://` prefix is accepted and ignored).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |reason: &str| format!("invalid endpoint {text:?}: {reason}");
        let rest = text.trim().trim_start_matches("https://");
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.parse::<Ipv6Addr>().is_ok() {
            return Ok(Self {
                host: rest.to_string(),
                port: DEFAULT_PORT,
            });
        }
        let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| bad("missing ']' after the IPv6 address"))?;
            match after {
                "" => (host, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return Err(bad("expected ':PORT' after ']'")),
                },
            }
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(bad("the host is empty"));
        }
        let port = match port {
            None => DEFAULT_PORT,
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?,
        };
        Ok(Self {
            host: host.to_string(),
            port,
        })
    }

    /// The TLS server name the certificate must carry: the host (IP SANs for addresses).
    pub fn server_name(&self) -> Result<ServerName<'static>, String> {
        ServerName::try_from(self.host.clone()).map_err(|_| {
            format!(
                "endpoint {self}: {:?} is neither an IP address nor a valid DNS name",
                self.host
            )
        })
    }
}

impl fmt::Display for Endpoint {
    /// `host:port`, with brackets around IPv6 addresses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn forms_with_and_without_port() {
        let cases = [
            ("10.5.0.2", "10.5.0.2", 50000, "10.5.0.2:50000"),
            ("10.5.0.2:6000", "10.5.0.2", 6000, "10.5.0.2:6000"),
            (
                "node-1.example",
                "node-1.example",
                50000,
                "node-1.example:50000",
            ),
            ("fd00::2", "fd00::2", 50000, "[fd00::2]:50000"),
            ("[fd00::2]", "fd00::2", 50000, "[fd00::2]:50000"),
            ("[fd00::2]:7", "fd00::2", 7, "[fd00::2]:7"),
            (
                "https://10.5.0.2:50000/",
                "10.5.0.2",
                50000,
                "10.5.0.2:50000",
            ),
        ];
        for (text, host, port, shown) in cases {
            let e = Endpoint::parse(text).unwrap();
            assert_eq!((e.host.as_str(), e.port), (host, port), "{text}");
            assert_eq!(e.to_string(), shown);
            e.server_name().unwrap();
        }
    }

    #[test]
    fn bad_forms_say_why() {
        for (text, why) in [
            ("10.5.0.2:x", "the port must be"),
            (":50000", "the host is empty"),
            ("[fd00::2", "missing ']'"),
            ("10.5.0.2:0", "the port must be"),
        ] {
            let err = Endpoint::parse(text).unwrap_err();
            assert!(err.contains(why) && err.contains(text), "{err}");
        }
    }
}
