//! Per-node etcd certificates issued by the etcd CA (`cluster.etcd.ca`).
//!
//! - `peer.crt`: ServerAuth + ClientAuth (members dial each other with it), SANs = hostname,
//!   `localhost`, the node's IPs and 127.0.0.1/::1.
//! - `server.crt`: ServerAuth + ClientAuth, same SANs. ClientAuth is needed because etcd's
//!   own gRPC gateway dials the local gRPC server with the server certificate when
//!   `--client-cert-auth` is on.
//! - `client.crt`: ClientAuth only, CN [`CLIENT_COMMON_NAME`], no Organization; machined
//!   uses it to manage membership.
//!
//! Keys are ECDSA P-256. Files are written 0600, atomically.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use basalt_pki::{CertificateAuthority, IssuedCertificate, KeyAlgorithm, LeafRequest, Usage};

use crate::error::EtcdError;
use crate::files::{ensure_dir, write_secret};

/// Common Name of the client certificate machined uses to talk to etcd.
pub const CLIENT_COMMON_NAME: &str = "etcd-client";

/// File names inside the etcd secrets directory (`/system/secrets/etcd/` on a node).
pub const CA_FILE: &str = "ca.crt";
/// Peer certificate file name.
pub const PEER_CERT_FILE: &str = "peer.crt";
/// Peer key file name.
pub const PEER_KEY_FILE: &str = "peer.key";
/// Server certificate file name.
pub const SERVER_CERT_FILE: &str = "server.crt";
/// Server key file name.
pub const SERVER_KEY_FILE: &str = "server.key";
/// Client certificate file name.
pub const CLIENT_CERT_FILE: &str = "client.crt";
/// Client key file name.
pub const CLIENT_KEY_FILE: &str = "client.key";

/// The names a node's etcd certificates must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeNames {
    /// The node's hostname (also the etcd member name).
    pub hostname: String,
    /// The node's addresses (127.0.0.1 and ::1 are always added).
    pub ips: Vec<IpAddr>,
}

/// A node's etcd certificates and keys, plus the CA certificate, all PEM.
#[derive(Clone)]
pub struct NodeCerts {
    /// The etcd CA certificate.
    pub ca_pem: String,
    /// Peer certificate and key.
    pub peer: IssuedCertificate,
    /// Client-facing server certificate and key.
    pub server: IssuedCertificate,
    /// Client certificate and key for machined.
    pub client: IssuedCertificate,
}

impl fmt::Debug for NodeCerts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeCerts")
            .field("peer", &self.peer)
            .field("server", &self.server)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// Where the files of [`NodeCerts::write`] are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPaths {
    /// `ca.crt`.
    pub ca: PathBuf,
    /// `peer.crt`.
    pub peer_cert: PathBuf,
    /// `peer.key`.
    pub peer_key: PathBuf,
    /// `server.crt`.
    pub server_cert: PathBuf,
    /// `server.key`.
    pub server_key: PathBuf,
    /// `client.crt`.
    pub client_cert: PathBuf,
    /// `client.key`.
    pub client_key: PathBuf,
}

impl CertPaths {
    /// The standard file names inside `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        CertPaths {
            ca: dir.join(CA_FILE),
            peer_cert: dir.join(PEER_CERT_FILE),
            peer_key: dir.join(PEER_KEY_FILE),
            server_cert: dir.join(SERVER_CERT_FILE),
            server_key: dir.join(SERVER_KEY_FILE),
            client_cert: dir.join(CLIENT_CERT_FILE),
            client_key: dir.join(CLIENT_KEY_FILE),
        }
    }
}

/// Trust and identity for the etcd gRPC client (all PEM).
#[derive(Clone)]
pub struct ClientTls {
    /// CA certificate(s) the server certificate must chain to.
    pub ca_pem: String,
    /// Client certificate.
    pub cert_pem: String,
    /// Client key (any label `basalt_pki::PrivateKey::from_pem` reads).
    pub key_pem: String,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    /// Reads `ca.crt`, `client.crt` and `client.key` from the paths.
    pub fn from_files(paths: &CertPaths) -> Result<Self, EtcdError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|e| EtcdError::io("reading", path, e))
        };
        Ok(ClientTls {
            ca_pem: read(&paths.ca)?,
            cert_pem: read(&paths.client_cert)?,
            key_pem: read(&paths.client_key)?,
        })
    }
}

/// Issues the peer, server and client certificates of one node from the etcd CA.
pub fn issue_node_certs(
    ca_crt_pem: &str,
    ca_key_pem: &str,
    names: &NodeNames,
    lifetime: Duration,
) -> Result<NodeCerts, EtcdError> {
    let node = &names.hostname;
    let ca = CertificateAuthority::from_pem(ca_crt_pem, ca_key_pem).map_err(|source| {
        EtcdError::Pki {
            what: format!(
                "reading the etcd CA (cluster.etcd.ca) for node {node}; check that crt and key \
                 are the PEM pair from `gen secrets`"
            ),
            source,
        }
    })?;
    let mut ips = names.ips.clone();
    for ip in [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ] {
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    let mut dns = vec!["localhost".to_string()];
    if !node.is_empty() && node != "localhost" {
        dns.insert(0, node.clone());
    }
    let issue = |which: &str, common_name: &str, usage: Usage, sans: bool| {
        ca.issue(&LeafRequest {
            common_name: common_name.to_string(),
            organizations: Vec::new(),
            dns_names: if sans { dns.clone() } else { Vec::new() },
            ip_addresses: if sans { ips.clone() } else { Vec::new() },
            usage,
            lifetime,
            algorithm: KeyAlgorithm::EcdsaP256,
        })
        .map_err(|source| EtcdError::Pki {
            what: format!("issuing the etcd {which} certificate for node {node}"),
            source,
        })
    };
    Ok(NodeCerts {
        ca_pem: ca.cert_pem().to_string(),
        peer: issue("peer", node, Usage::SERVER_AND_CLIENT, true)?,
        server: issue("server", node, Usage::SERVER_AND_CLIENT, true)?,
        client: issue("client", CLIENT_COMMON_NAME, Usage::CLIENT, false)?,
    })
}

impl NodeCerts {
    /// Writes the seven files into `dir` (created 0700 if missing), each 0600, atomically.
    pub fn write(&self, dir: &Path) -> Result<CertPaths, EtcdError> {
        ensure_dir(dir)?;
        let paths = CertPaths::in_dir(dir);
        write_secret(&paths.ca, self.ca_pem.as_bytes())?;
        write_secret(&paths.peer_cert, self.peer.cert_pem.as_bytes())?;
        write_secret(&paths.peer_key, self.peer.key_pem.as_bytes())?;
        write_secret(&paths.server_cert, self.server.cert_pem.as_bytes())?;
        write_secret(&paths.server_key, self.server.key_pem.as_bytes())?;
        write_secret(&paths.client_cert, self.client.cert_pem.as_bytes())?;
        write_secret(&paths.client_key, self.client.key_pem.as_bytes())?;
        Ok(paths)
    }

    /// The client identity (CA + client certificate) for [`crate::client::Client::connect`].
    pub fn client_tls(&self) -> ClientTls {
        ClientTls {
            ca_pem: self.ca_pem.clone(),
            cert_pem: self.client.cert_pem.clone(),
            key_pem: self.client.key_pem.clone(),
        }
    }
}
