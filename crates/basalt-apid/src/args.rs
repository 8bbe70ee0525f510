//! Command-line flags of `basalt apid`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// machined's API socket inside the node.
pub const DEFAULT_SOCKET: &str = "/system/run/machined/machine.sock";
/// Where apid listens.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:50000";
/// Lifetime of the server certificate (re-issued at half-life).
pub const DEFAULT_CERT_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The usage line printed with argument errors.
pub const USAGE: &str = "usage: basalt apid [--socket PATH] [--listen ADDR:PORT] [--maintenance] [--maintenance-ca FILE] [--cert-lifetime DURATION]";

/// Parsed flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// machined's unix socket.
    pub socket: PathBuf,
    /// TCP listen address.
    pub listen: SocketAddr,
    /// Serve in maintenance mode (self-signed certificate, no config).
    pub maintenance: bool,
    /// A CA (PEM file) client certificates must chain to in maintenance mode.
    pub maintenance_ca: Option<PathBuf>,
    /// Server certificate lifetime.
    pub cert_lifetime: Duration,
}

/// A bad command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}\n{USAGE}")]
pub struct ArgsError(String);

/// Parses the flags. Leading words that are not flags (the program and
/// sub-command names, e.g. `basalt apid`) are skipped.
pub fn parse(args: &[String]) -> Result<Args, ArgsError> {
    let mut parsed = Args {
        socket: PathBuf::from(DEFAULT_SOCKET),
        listen: DEFAULT_LISTEN
            .parse()
            .map_err(|_| ArgsError("bad default listen address".to_string()))?,
        maintenance: false,
        maintenance_ca: None,
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
                        "--listen {text:?} is not an address like 0.0.0.0:50000 or [::]:50000"
                    ))
                })?;
            }
            "--maintenance" if inline.is_none() => parsed.maintenance = true,
            "--maintenance-ca" => parsed.maintenance_ca = Some(PathBuf::from(value()?)),
            "--cert-lifetime" => parsed.cert_lifetime = duration(&value()?)?,
            _ => return Err(ArgsError(format!("unknown argument {arg:?}"))),
        }
    }
    Ok(parsed)
}

/// Parses a Go-style duration (`24h`, `1h30m`, `4s`, `1.5h`); it must be longer than zero.
pub fn duration(text: &str) -> Result<Duration, ArgsError> {
    match basalt_config::duration::parse_go_duration(text) {
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(ArgsError(format!(
            "{text:?} is not a duration like 24h, 90m, 1h30m or 4s"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_and_every_flag() {
        let d = parse(&strings(&["basalt", "apid"])).unwrap();
        assert_eq!(d.socket, PathBuf::from(DEFAULT_SOCKET));
        assert_eq!(d.listen.port(), 50000);
        assert!(!d.maintenance && d.maintenance_ca.is_none());
        assert_eq!(d.cert_lifetime, DEFAULT_CERT_LIFETIME);
        let a = parse(&strings(&[
            "--socket=/s.sock",
            "--listen",
            "127.0.0.1:5",
            "--maintenance",
            "--maintenance-ca",
            "/ca.crt",
            "--cert-lifetime",
            "1h30m",
        ]))
        .unwrap();
        assert_eq!(a.socket, PathBuf::from("/s.sock"));
        assert_eq!(a.listen, "127.0.0.1:5".parse().unwrap());
        assert!(a.maintenance);
        assert_eq!(a.maintenance_ca, Some(PathBuf::from("/ca.crt")));
        assert_eq!(a.cert_lifetime, Duration::from_secs(5400));
    }

    #[test]
    fn errors_name_the_problem_and_show_usage() {
        let err = parse(&strings(&["--bogus"])).unwrap_err().to_string();
        assert!(err.contains("--bogus") && err.contains("usage:"), "{err}");
        let err = parse(&strings(&["--listen", "nowhere"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("nowhere"), "{err}");
        let err = parse(&strings(&["--socket"])).unwrap_err().to_string();
        assert!(err.contains("needs a value"), "{err}");
        for bad in ["", "0s", "10", "h", "5d", "-1h"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
        assert_eq!(duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(duration("1.5h").unwrap(), Duration::from_secs(5400));
    }
}
