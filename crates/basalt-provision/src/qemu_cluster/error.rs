//! Errors of the QEMU cluster provisioner.

use std::path::PathBuf;

use crate::container::ContainerError;
use crate::qemu::QemuError;

/// Why a QEMU cluster could not be created, inspected or destroyed.
#[derive(Debug, thiserror::Error)]
pub enum QemuClusterError {
    /// A check or host step shared with the container provisioner (name, CIDR, bridge,
    /// links, `ip` commands, files, state).
    #[error(transparent)]
    Host(#[from] ContainerError),
    /// Building or starting a VM failed (accelerator, QEMU binary, inputs).
    #[error(transparent)]
    Qemu(#[from] QemuError),
    /// The image directory lacks a boot file.
    #[error(
        "no {path}: QEMU clusters boot vmlinuz + initramfs.img with the image's cmdline; \
         build them with `cargo xtask image` (or pass --image DIR)"
    )]
    NoImageFile {
        /// The missing file.
        path: PathBuf,
    },
    /// Taps cannot be made.
    #[error("/dev/net/tun is missing: QEMU clusters need tap devices (load the `tun` module: `modprobe tun`)")]
    NoTun,
    /// A VM's QEMU ended while the cluster was being created.
    #[error(
        "node {node}: QEMU exited during start-up ({status}); QEMU said: {stderr}; \
         last console lines ({log}):\n{tail}"
    )]
    VmExited {
        /// The node's hostname.
        node: String,
        /// How it ended (or "exited").
        status: String,
        /// QEMU's stderr.
        stderr: String,
        /// The serial console log.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },
    /// The state file is not a QEMU cluster's.
    #[error(
        "cluster state {path} is not a QEMU cluster's (provisioner {found:?}); use the \
         container provisioner's commands for it"
    )]
    NotQemu {
        /// The state file.
        path: PathBuf,
        /// What it says.
        found: String,
    },
    /// Creation failed; what was made has been removed.
    #[error("{cause}\n(cleaned up: {cleaned})")]
    RolledBack {
        /// The original failure.
        cause: Box<QemuClusterError>,
        /// What the clean-up removed, or what it could not remove.
        cleaned: String,
    },
}
