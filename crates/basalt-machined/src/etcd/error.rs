//! Errors of machined's etcd service and of the etcd RPCs.

use std::path::PathBuf;

use basalt_etcd::EtcdError;

/// Something the etcd service or an etcd RPC could not do.
#[derive(Debug, thiserror::Error)]
pub enum EtcdServiceError {
    /// The node is not a control-plane node (or its config lacks the etcd CA).
    #[error(
        "etcd runs only on control-plane nodes (machine.type: controlplane with cluster.etcd.ca \
         crt and key); send etcd calls to a control-plane node (-n CP_ADDRESS)"
    )]
    NotControlPlane,
    /// etcd does not run on this node yet (or any more).
    #[error("etcd is not running on node {node} (it is {phase}); {hint}")]
    NotRunning {
        /// The node's hostname.
        node: String,
        /// What etcd is doing instead.
        phase: String,
        /// What to do.
        hint: &'static str,
    },
    /// Bootstrap was refused: etcd already runs, is starting, joined, or data exists.
    #[error("bootstrap refused on node {node}: {reason}")]
    BootstrapRefused {
        /// The node's hostname.
        node: String,
        /// Why.
        reason: String,
    },
    /// Bootstrap with recover_etcd but no snapshot was uploaded.
    #[error(
        "bootstrap with recovery on node {node}: no snapshot at {path}; upload one first \
         (basaltctl bootstrap --recover-from SNAPSHOT does both)"
    )]
    NoSnapshot {
        /// The node's hostname.
        node: String,
        /// Where the snapshot was expected.
        path: PathBuf,
    },
    /// The config lacks something etcd needs.
    #[error("machine config field {field}: {reason}")]
    Config {
        /// The field, e.g. `cluster.etcd.ca`.
        field: &'static str,
        /// What is wrong and what to do.
        reason: String,
    },
    /// No address to advertise to the other members.
    #[error(
        "node {node} has no non-loopback IPv4 address{within} to advertise to etcd peers; \
         configure an address (machine.network.interfaces) or fix cluster.etcd.advertisedSubnets"
    )]
    NoAddress {
        /// The node's hostname.
        node: String,
        /// ` within SUBNETS` when advertisedSubnets is set.
        within: String,
    },
    /// A file operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The etcd library reported an error.
    #[error(transparent)]
    Etcd(#[from] EtcdError),
    /// The supervisor refused to load or start the etcd service.
    #[error("etcd service: {0}")]
    Supervisor(String),
    /// Discovery of the existing cluster through apid failed.
    #[error("asking {endpoint} for the etcd members: {reason}")]
    Discovery {
        /// The apid endpoint.
        endpoint: String,
        /// What failed.
        reason: String,
    },
    /// The etcd controller has stopped (machine shutting down).
    #[error("the etcd controller of node {node} has stopped (the machine is shutting down)")]
    Stopped {
        /// The node's hostname.
        node: String,
    },
    /// The snapshot upload stream failed.
    #[error("etcd snapshot upload to {path}: {reason}")]
    Upload {
        /// Where it was written.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
}

impl EtcdServiceError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        EtcdServiceError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
