//! The command line of etcd 3.4: https everywhere, client and peer certificate
//! authentication on, TLS 1.2 restricted to ECDHE + AES-GCM (TLS 1.3, which Go negotiates
//! by default, has only AEAD suites anyway), corruption check at start.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::error::EtcdError;
use crate::pki::CertPaths;

/// etcd's default client port.
pub const CLIENT_PORT: u16 = 2379;
/// etcd's default peer port.
pub const PEER_PORT: u16 = 2380;

/// TLS 1.2 cipher suites etcd may use (ECDHE key exchange, AES-GCM only). etcd 3.4 has no
/// `--tls-min-version`; TLS 1.3 suites are not configurable in Go and are all AEAD.
pub const CIPHER_SUITES: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
];

/// Flags Basalt sets itself or that would weaken TLS; `extraArgs` may not name them.
pub const RESERVED_FLAGS: &[&str] = &[
    "name",
    "data-dir",
    "wal-dir",
    "listen-peer-urls",
    "listen-client-urls",
    "advertise-client-urls",
    "initial-advertise-peer-urls",
    "initial-cluster",
    "initial-cluster-state",
    "client-cert-auth",
    "peer-client-cert-auth",
    "trusted-ca-file",
    "peer-trusted-ca-file",
    "cert-file",
    "key-file",
    "peer-cert-file",
    "peer-key-file",
    "auto-tls",
    "peer-auto-tls",
    "cipher-suites",
    "experimental-initial-corrupt-check",
    "discovery",
    "discovery-srv",
    "force-new-cluster",
];

/// Client and peer ports (2379 / 2380 unless a test needs others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// Client port.
    pub client: u16,
    /// Peer port.
    pub peer: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            client: CLIENT_PORT,
            peer: PEER_PORT,
        }
    }
}

/// How the member starts: a new one-member cluster, or joining an existing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Initial {
    /// `--initial-cluster NAME=PEER_URL --initial-cluster-state new`.
    New,
    /// `--initial-cluster <this> --initial-cluster-state existing` (from [`crate::join::JoinPlan`]).
    Existing {
        /// `name=url,name=url,...` as etcd expects.
        initial_cluster: String,
    },
}

/// Everything etcd's command line is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdArgs {
    /// Member name (the node's hostname).
    pub name: String,
    /// Data directory (`/var/lib/etcd` on a node).
    pub data_dir: PathBuf,
    /// The address other members and clients use to reach this member.
    pub advertise_ip: IpAddr,
    /// Certificate files.
    pub certs: CertPaths,
    /// New cluster or join.
    pub initial: Initial,
    /// `cluster.etcd.extraArgs`: flag (with or without leading `--`) and value.
    pub extra: Vec<(String, String)>,
    /// Ports (default 2379/2380).
    pub ports: Ports,
}

/// `https://IP:PORT` (IPv6 in brackets).
pub fn https_url(ip: IpAddr, port: u16) -> String {
    format!("https://{}", SocketAddr::new(ip, port))
}

impl EtcdArgs {
    /// Arguments with the default ports and no extra flags.
    pub fn new(
        name: impl Into<String>,
        data_dir: impl Into<PathBuf>,
        advertise_ip: IpAddr,
        certs: CertPaths,
        initial: Initial,
    ) -> Self {
        EtcdArgs {
            name: name.into(),
            data_dir: data_dir.into(),
            advertise_ip,
            certs,
            initial,
            extra: Vec::new(),
            ports: Ports::default(),
        }
    }

    /// This member's peer URL (`https://advertise_ip:peer`).
    pub fn peer_url(&self) -> String {
        https_url(self.advertise_ip, self.ports.peer)
    }

    /// This member's client URL (`https://advertise_ip:client`).
    pub fn client_url(&self) -> String {
        https_url(self.advertise_ip, self.ports.client)
    }

    /// Refuses extra flags that are malformed or reserved (see [`RESERVED_FLAGS`]).
    pub fn validate(&self) -> Result<(), EtcdError> {
        if self.name.trim().is_empty() {
            return Err(EtcdError::InvalidArgument {
                field: "name".to_string(),
                reason: "the member name (node hostname) is empty".to_string(),
            });
        }
        for (flag, _) in &self.extra {
            let bare = flag.trim_start_matches('-');
            if bare.is_empty() || bare.contains(['=', ' ']) {
                return Err(EtcdError::InvalidArgument {
                    field: format!("cluster.etcd.extraArgs {flag:?}"),
                    reason: "expected a flag name such as `heartbeat-interval`".to_string(),
                });
            }
            if RESERVED_FLAGS.contains(&bare) {
                return Err(EtcdError::ReservedFlag {
                    flag: bare.to_string(),
                });
            }
        }
        Ok(())
    }

    /// The full argv: `etcd` (the executable path) followed by every flag.
    pub fn argv(&self, etcd: &Path) -> Result<Vec<String>, EtcdError> {
        self.validate()?;
        let unspecified = match self.advertise_ip {
            IpAddr::V4(_) => "0.0.0.0",
            IpAddr::V6(_) => "[::]",
        };
        let initial_cluster = match &self.initial {
            Initial::New => format!("{}={}", self.name, self.peer_url()),
            Initial::Existing { initial_cluster } => initial_cluster.clone(),
        };
        let state = match self.initial {
            Initial::New => "new",
            Initial::Existing { .. } => "existing",
        };
        let path = |p: &Path| p.display().to_string();
        let mut argv = vec![etcd.display().to_string()];
        let mut flag = |name: &str, value: String| argv.push(format!("--{name}={value}"));
        flag("name", self.name.clone());
        flag("data-dir", path(&self.data_dir));
        flag(
            "listen-peer-urls",
            format!("https://{unspecified}:{}", self.ports.peer),
        );
        flag(
            "listen-client-urls",
            format!("https://{unspecified}:{}", self.ports.client),
        );
        flag("advertise-client-urls", self.client_url());
        flag("initial-advertise-peer-urls", self.peer_url());
        flag("initial-cluster", initial_cluster);
        flag("initial-cluster-state", state.to_string());
        flag("client-cert-auth", "true".to_string());
        flag("peer-client-cert-auth", "true".to_string());
        flag("trusted-ca-file", path(&self.certs.ca));
        flag("peer-trusted-ca-file", path(&self.certs.ca));
        flag("cert-file", path(&self.certs.server_cert));
        flag("key-file", path(&self.certs.server_key));
        flag("peer-cert-file", path(&self.certs.peer_cert));
        flag("peer-key-file", path(&self.certs.peer_key));
        flag("cipher-suites", CIPHER_SUITES.join(","));
        flag("experimental-initial-corrupt-check", "true".to_string());
        for (name, value) in &self.extra {
            flag(name.trim_start_matches('-'), value.clone());
        }
        Ok(argv)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(initial: Initial) -> EtcdArgs {
        EtcdArgs::new(
            "cp-1",
            "/var/lib/etcd",
            "10.5.0.2".parse().unwrap(),
            CertPaths::in_dir(Path::new("/system/secrets/etcd")),
            initial,
        )
    }

    #[test]
    fn new_cluster_argv_has_every_security_flag() {
        let argv = args(Initial::New).argv(Path::new("/usr/bin/etcd")).unwrap();
        assert_eq!(argv[0], "/usr/bin/etcd");
        for expected in [
            "--name=cp-1",
            "--data-dir=/var/lib/etcd",
            "--listen-peer-urls=https://0.0.0.0:2380",
            "--listen-client-urls=https://0.0.0.0:2379",
            "--advertise-client-urls=https://10.5.0.2:2379",
            "--initial-advertise-peer-urls=https://10.5.0.2:2380",
            "--initial-cluster=cp-1=https://10.5.0.2:2380",
            "--initial-cluster-state=new",
            "--client-cert-auth=true",
            "--peer-client-cert-auth=true",
            "--trusted-ca-file=/system/secrets/etcd/ca.crt",
            "--peer-trusted-ca-file=/system/secrets/etcd/ca.crt",
            "--cert-file=/system/secrets/etcd/server.crt",
            "--key-file=/system/secrets/etcd/server.key",
            "--peer-cert-file=/system/secrets/etcd/peer.crt",
            "--peer-key-file=/system/secrets/etcd/peer.key",
            "--experimental-initial-corrupt-check=true",
        ] {
            assert!(
                argv.iter().any(|a| a == expected),
                "{expected} missing: {argv:?}"
            );
        }
        assert!(argv
            .iter()
            .any(|a| a.starts_with("--cipher-suites=TLS_ECDHE_")));
    }

    #[test]
    fn existing_cluster_uses_the_join_plan_and_extras_come_last() {
        let mut a = args(Initial::Existing {
            initial_cluster: "cp-0=https://10.5.0.1:2380,cp-1=https://10.5.0.2:2380".to_string(),
        });
        a.extra = vec![("--heartbeat-interval".to_string(), "200".to_string())];
        a.advertise_ip = "fd00::2".parse().unwrap();
        let argv = a.argv(Path::new("etcd")).unwrap();
        assert!(argv.contains(&"--initial-cluster-state=existing".to_string()));
        assert!(argv.contains(
            &"--initial-cluster=cp-0=https://10.5.0.1:2380,cp-1=https://10.5.0.2:2380".to_string()
        ));
        assert!(argv.contains(&"--listen-client-urls=https://[::]:2379".to_string()));
        assert!(argv.contains(&"--advertise-client-urls=https://[fd00::2]:2379".to_string()));
        assert_eq!(argv.last().unwrap(), "--heartbeat-interval=200");
    }

    #[test]
    fn security_flags_cannot_be_overridden() {
        for flag in [
            "client-cert-auth",
            "--auto-tls",
            "-cert-file",
            "cipher-suites",
        ] {
            let mut a = args(Initial::New);
            a.extra = vec![(flag.to_string(), "false".to_string())];
            let err = a.argv(Path::new("etcd")).unwrap_err().to_string();
            assert!(
                err.contains(flag.trim_start_matches('-')) && err.contains("extraArgs"),
                "{err}"
            );
        }
        let mut a = args(Initial::New);
        a.extra = vec![("bad=flag".to_string(), "1".to_string())];
        assert!(a.argv(Path::new("etcd")).is_err());
    }
}
