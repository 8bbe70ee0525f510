//! Platforms: where machined runs, and the layout of a node's filesystem.
//!
//! - `container`: PID 1 of fresh namespaces made by the launcher ([`container::launch`]);
//!   `/dev`, STATE and EPHEMERAL are prepared by the launcher, machined mounts `/proc` and
//!   `/sys` itself and never really reboots.
//! - `metal`: real PID 1 (pseudo file systems and partitions are its job; power off and
//!   reboot are system calls). Only the parts shared with container mode exist so far.

pub mod container;
mod pseudo;

use std::path::{Path, PathBuf};

pub use basalt_config::validate::Mode;
pub use pseudo::{mount_pseudo, pseudo_mounts, unmount_pseudo};

/// Where things are inside a node, and where that node's `/` is for this process
/// (`/` on a node; a temporary directory in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The node's `/` as seen by this process.
    pub root: PathBuf,
}

impl Paths {
    /// STATE: the machine config and node identity (`/system/state`).
    pub const STATE: &'static str = "/system/state";
    /// EPHEMERAL (`/var`).
    pub const EPHEMERAL: &'static str = "/var";
    /// Services provided by the image (`/usr/lib/basalt/services`).
    pub const IMAGE_SERVICES: &'static str = "/usr/lib/basalt/services";
    /// machined's socket directory, shared with the host in container mode.
    pub const SOCKET_DIR: &'static str = "/system/run/machined";
    /// The basalt multi-call binary inside the image.
    pub const BASALT_BINARY: &'static str = "/usr/bin/basalt";

    /// The layout of the node this process runs in.
    pub fn node() -> Self {
        Paths {
            root: PathBuf::from("/"),
        }
    }

    /// A node whose `/` is `root`.
    pub fn under(root: impl Into<PathBuf>) -> Self {
        Paths { root: root.into() }
    }

    /// `inside` (an absolute path inside the node) as seen by this process.
    pub fn host(&self, inside: impl AsRef<Path>) -> PathBuf {
        let inside = inside.as_ref();
        self.root.join(inside.strip_prefix("/").unwrap_or(inside))
    }

    /// STATE as seen by this process.
    pub fn state(&self) -> PathBuf {
        self.host(Self::STATE)
    }

    /// EPHEMERAL as seen by this process.
    pub fn ephemeral(&self) -> PathBuf {
        self.host(Self::EPHEMERAL)
    }
}
