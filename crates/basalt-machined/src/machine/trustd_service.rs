//! trustd as a built-in service of machined (id [`TRUSTD_ID`]): `<basalt> trustd --socket …`,
//! restarted forever, loaded next to apid on control-plane nodes only (the config holds
//! `machine.ca.key`); health = a TCP connect to `127.0.0.1:50001`.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crate::api::SOCKET_PATH;
use crate::machine::image_services::DEFAULT_PATH;
use crate::supervisor::{HealthCheck, Probe, RestartPolicy, ServiceSpec};

/// Service id of trustd.
pub const TRUSTD_ID: &str = "trustd";

/// The port trustd listens on (Talos's).
pub const TRUSTD_PORT: u16 = 50001;

/// The service spec of trustd run by the basalt binary `exe`.
pub fn spec(exe: &Path) -> ServiceSpec {
    let argv = vec![
        exe.display().to_string(),
        "trustd".to_string(),
        "--socket".to_string(),
        SOCKET_PATH.to_string(),
    ];
    let mut spec = ServiceSpec::new(TRUSTD_ID, argv);
    spec.env = vec![("PATH".to_string(), DEFAULT_PATH.to_string())];
    for key in ["RUST_BACKTRACE", "RUST_LOG"] {
        if let Ok(v) = std::env::var(key) {
            spec.env.push((key.to_string(), v));
        }
    }
    spec.restart = RestartPolicy::Forever;
    spec.stop_timeout = Duration::from_secs(5);
    spec.health = Some(HealthCheck {
        probe: Probe::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, TRUSTD_PORT))),
        period: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
        initial_delay: Duration::ZERO,
    });
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_and_health() {
        let s = spec(Path::new("/usr/bin/basalt"));
        assert_eq!(s.id, "trustd");
        assert_eq!(
            s.argv,
            ["/usr/bin/basalt", "trustd", "--socket", SOCKET_PATH]
        );
        assert!(s.depends_on.is_empty());
        assert_eq!(s.restart, RestartPolicy::Forever);
        assert!(matches!(
            s.health.map(|h| h.probe),
            Some(Probe::Tcp(a)) if a.port() == TRUSTD_PORT && a.ip().is_loopback()
        ));
    }
}
