//! Command-line flags of `basalt trustd`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use basalt_apid::args::{duration, DEFAULT_CERT_LIFETIME, DEFAULT_SOCKET};

/// Where trustd listens (Talos's port).
pub const DEFAULT_LISTEN: &str = "0.0.0.0:50001";

/// The usage line printed with argument errors.
pub const USAGE: &str =
    "usage: basalt trustd [--socket PATH] [--listen ADDR:PORT] [--cert-lifetime DURATION]";

/// Parsed flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// machined's unix socket (the machine config is read from there).
    pub socket: PathBuf,
    /// TCP listen address.
    pub listen: SocketAddr,
    /// Lifetime of the certificates trustd signs, and of its own server certificate
    /// (re-issued at half-life). Default: apid's, 24 h.
    pub cert_lifetime: Duration,
}

/// A bad command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}\n{USAGE}")]
pub struct ArgsError(String);

/// Parses the flags. Leading words that are not flags (`basalt trustd`) are skipped.
pub fn parse(args: &[String]) -> Result<Args, ArgsError> {
    let mut parsed = Args {
        socket: PathBuf::from(DEFAULT_SOCKET),
        listen: SocketAddr::from(([0, 0, 0, 0], 50001)),
        cert_lifetime: DEFAULT_CERT_LIFETIME,
    };
    let mut rest = args.iter().skip_while(|a| !a.starts_with('-'));
    while let Some(arg) = rest.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| rest.next().cloned())
                .ok_or_else(|| ArgsError(format!("{flag} needs a value")))
        };
        match flag {
            "--socket" => parsed.socket = PathBuf::from(value()?),
            "--listen" => {
                let text = value()?;
                parsed.listen = text.parse().map_err(|_| {
                    ArgsError(format!(
                        "--listen {text:?} is not an address like {DEFAULT_LISTEN} or [::]:50001"
                    ))
                })?;
            }
            "--cert-lifetime" => {
                parsed.cert_lifetime = duration(&value()?).map_err(|e| ArgsError(e.to_string()))?
            }
            _ => return Err(ArgsError(format!("unknown argument {arg:?}"))),
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_flags_and_errors() {
        let d = parse(&strings(&["basalt", "trustd"])).unwrap();
        assert_eq!(d.listen, DEFAULT_LISTEN.parse().unwrap());
        assert_eq!(d.socket, PathBuf::from(DEFAULT_SOCKET));
        assert_eq!(d.cert_lifetime, DEFAULT_CERT_LIFETIME);
        let a = parse(&strings(&[
            "--socket=/m.sock",
            "--listen",
            "127.0.0.1:7",
            "--cert-lifetime",
            "1h",
        ]))
        .unwrap();
        assert_eq!(a.socket, PathBuf::from("/m.sock"));
        assert_eq!(a.listen, "127.0.0.1:7".parse().unwrap());
        assert_eq!(a.cert_lifetime, Duration::from_secs(3600));
        let err = parse(&strings(&["--nope"])).unwrap_err().to_string();
        assert!(err.contains("--nope") && err.contains("usage:"), "{err}");
        assert!(parse(&strings(&["--listen", "x"])).is_err());
    }
}
