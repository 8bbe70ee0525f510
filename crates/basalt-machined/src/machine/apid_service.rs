//! apid as a built-in service of machined (id [`APID_ID`]): `<basalt> apid --socket …`,
//! restarted forever, depending on nothing.
//!
//! - Normal mode (a config is loaded): registered by the boot sequence. Its health is a
//!   TCP connect to `127.0.0.1:50000`. On a control-plane node (the config holds
//!   `machine.ca.key`) apid issues its own certificate and listens at once; a worker's apid
//!   listens once trustd signed its certificate, so a worker is ready only then.
//! - Maintenance mode (no config): started by `loadConfig` with `--maintenance` (and
//!   `--maintenance-ca FILE` when `basalt.maintenance-ca=` pins a CA), health = the same TCP
//!   connect; stopped again once a config was applied, before boot loads the normal one.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use basalt_config::MachineConfig;

use crate::api::SOCKET_PATH;
use crate::machine::image_services::DEFAULT_PATH;
use crate::supervisor::{HealthCheck, Probe, RestartPolicy, ServiceSpec};

/// Service id of apid.
pub const APID_ID: &str = "apid";

/// The port apid listens on (Talos's).
pub const APID_PORT: u16 = 50000;

/// How apid runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApidMode {
    /// With the machine config; `control_plane` when the config holds the OS CA key.
    Normal {
        /// Whether apid issues its own server certificate (and so listens).
        control_plane: bool,
    },
    /// Without a config: self-signed, only read-only calls and ApplyConfiguration.
    Maintenance {
        /// The pinned maintenance CA file inside the node, if any.
        ca: Option<PathBuf>,
    },
}

impl ApidMode {
    /// Normal mode for `config`.
    pub fn for_config(config: &MachineConfig) -> Self {
        let control_plane = config
            .v1alpha1()
            .and_then(|c| c.machine.ca.as_ref())
            .is_some_and(|ca| ca.key().is_some());
        ApidMode::Normal { control_plane }
    }
}

/// Whether the basalt binary `exe` exists in the node at `paths` (machines assembled on a
/// bare test root have none; apid is not loaded there, which is logged).
pub fn binary_present(paths: &crate::platform::Paths, exe: &Path) -> bool {
    paths.host(exe).is_file()
}

/// The service spec of apid run by the basalt binary `exe`.
pub fn spec(exe: &Path, mode: &ApidMode) -> ServiceSpec {
    let mut argv = vec![
        exe.display().to_string(),
        "apid".to_string(),
        "--socket".to_string(),
        SOCKET_PATH.to_string(),
    ];
    if let ApidMode::Maintenance { ca } = mode {
        argv.push("--maintenance".to_string());
        if let Some(ca) = ca {
            argv.push("--maintenance-ca".to_string());
            argv.push(ca.display().to_string());
        }
    }
    let mut spec = ServiceSpec::new(APID_ID, argv);
    spec.env = vec![("PATH".to_string(), DEFAULT_PATH.to_string())];
    for key in ["RUST_BACKTRACE", "RUST_LOG"] {
        if let Ok(v) = std::env::var(key) {
            spec.env.push((key.to_string(), v));
        }
    }
    spec.restart = RestartPolicy::Forever;
    spec.stop_timeout = Duration::from_secs(5);
    spec.health = Some(HealthCheck {
        probe: Probe::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, APID_PORT))),
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
    fn maintenance_argv_and_health() {
        let s = spec(
            Path::new("/usr/bin/basalt"),
            &ApidMode::Maintenance {
                ca: Some("/run/basalt/maintenance-ca.crt".into()),
            },
        );
        assert_eq!(s.id, "apid");
        assert_eq!(
            s.argv,
            [
                "/usr/bin/basalt",
                "apid",
                "--socket",
                SOCKET_PATH,
                "--maintenance",
                "--maintenance-ca",
                "/run/basalt/maintenance-ca.crt"
            ]
        );
        assert!(s.depends_on.is_empty());
        assert_eq!(s.restart, RestartPolicy::Forever);
        assert!(matches!(
            s.health.map(|h| h.probe),
            Some(Probe::Tcp(a)) if a.port() == APID_PORT
        ));
    }

    #[test]
    fn worker_apid_is_healthy_once_it_listens() {
        let worker = spec(
            Path::new("/b"),
            &ApidMode::Normal {
                control_plane: false,
            },
        );
        assert!(matches!(
            worker.health.map(|h| h.probe),
            Some(Probe::Tcp(a)) if a.port() == APID_PORT
        ));
        assert_eq!(worker.argv.len(), 4);
        let cp = spec(
            Path::new("/b"),
            &ApidMode::Normal {
                control_plane: true,
            },
        );
        assert!(cp.health.is_some());
    }
}
