//! Errors of the container provisioner.

use std::path::PathBuf;

/// Why a container cluster could not be created, inspected or destroyed.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// A cluster name that cannot become host names and link names.
    #[error("cluster name {name:?}: {reason}")]
    BadName {
        /// The name given.
        name: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The CIDR cannot hold the cluster.
    #[error("--cidr {cidr}: {reason}")]
    BadCidr {
        /// The CIDR given.
        cidr: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The cluster (or something it would create) already exists.
    #[error("cluster {name}: {what} already exists; destroy it first (`basaltctl cluster destroy --name {name}`) or pick another --name/--cidr")]
    Exists {
        /// The cluster.
        name: String,
        /// What exists (directory, bridge, link, network namespace, route).
        what: String,
    },
    /// The CIDR overlaps a network the host already uses.
    #[error("--cidr {cidr} overlaps {used} ({source_kind} on the host); pick a free range, e.g. --cidr 10.6.0.0/24")]
    CidrInUse {
        /// The CIDR given.
        cidr: String,
        /// The network in use.
        used: String,
        /// `route` or `address`.
        source_kind: &'static str,
    },
    /// No such cluster.
    #[error("no cluster {name} under {dir} (list them with `ls {dir}`)")]
    NotFound {
        /// The cluster.
        name: String,
        /// The clusters directory.
        dir: PathBuf,
    },
    /// The cluster needs root.
    #[error(
        "container clusters need root (network namespaces, bridges, loop devices); run as root"
    )]
    NotRoot,
    /// The image directory lacks the root file system.
    #[error("no node image at {path}; build it with `cargo xtask image` (or pass --image DIR)")]
    NoImage {
        /// The expected `rootfs.sqsh`.
        path: PathBuf,
    },
    /// A host command failed.
    #[error("`{command}` failed: {detail}")]
    Command {
        /// The command line.
        command: String,
        /// Its stderr, exit status, or why it could not start (install `iproute2` /
        /// `squashfs-tools`).
        detail: String,
    },
    /// A file operation failed.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// `state.json` is unreadable.
    #[error("cluster state {path} is not valid ({reason}); remove what it made by hand (`ip netns`, `ip link`) and delete the directory")]
    BadState {
        /// The file.
        path: PathBuf,
        /// The decoding error.
        reason: String,
    },
    /// A node's launcher exited while the cluster was being created.
    #[error("node {node}: the launcher exited during start-up ({status}); last console lines ({log}):\n{tail}")]
    NodeExited {
        /// The node's hostname.
        node: String,
        /// Its exit status.
        status: String,
        /// The console log file.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },
    /// Creation failed; what was made has been removed.
    #[error("{cause}\n(cleaned up: {cleaned})")]
    RolledBack {
        /// The original failure.
        cause: Box<ContainerError>,
        /// What the clean-up removed, or what it could not remove.
        cleaned: String,
    },
}

impl ContainerError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| ContainerError::Io { op, path, source }
    }
}
