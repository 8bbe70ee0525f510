//! Errors of the QEMU helper; each names what failed, where, and what to do.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while building, starting or watching a VM.
#[derive(Debug, thiserror::Error)]
pub enum QemuError {
    /// A required builder setting was not given.
    #[error("qemu: the VM needs {0}; set it on the builder before spawn()")]
    Missing(&'static str),
    /// An input file (kernel, initrd, disk) does not exist.
    #[error("qemu: {what} {path} does not exist; build or download it first")]
    NoSuchFile {
        /// Which input ("kernel", "initrd", "disk").
        what: &'static str,
        /// The path given.
        path: PathBuf,
    },
    /// `--accel` got a value other than auto, tcg or kvm.
    #[error("qemu: unknown accelerator {0:?}; use one of auto, tcg, kvm")]
    UnknownAccel(String),
    /// KVM was forced but cannot be used here.
    #[error("qemu: KVM was requested but {0}; use --accel tcg (software emulation)")]
    KvmUnavailable(String),
    /// The QEMU binary could not be started.
    #[error(
        "qemu: cannot start {binary}: {source}; install it with \
         `apt-get install --no-install-recommends qemu-system-x86` (or `cargo xtask test`, which installs it)"
    )]
    Spawn {
        /// The program that failed to start.
        binary: String,
        /// The error from exec.
        #[source]
        source: std::io::Error,
    },
    /// A file operation on a VM input or log failed.
    #[error("qemu: {action} {path}: {source}")]
    Io {
        /// What was being done ("create serial log", "read serial log", ...).
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// No free TCP port could be reserved on 127.0.0.1.
    #[error("qemu: cannot pick a free port on 127.0.0.1: {0}")]
    NoFreePort(#[source] std::io::Error),
    /// The expected serial line did not appear in time.
    #[error(
        "qemu: no matching console line within {timeout:?} (serial log {log}); last lines:\n{tail}"
    )]
    LineTimeout {
        /// How long we waited.
        timeout: Duration,
        /// The serial log file.
        log: PathBuf,
        /// The last lines of the serial console.
        tail: String,
    },
    /// QEMU ended before the expected serial line appeared.
    #[error(
        "qemu: QEMU exited ({status}) before the expected console line (serial log {log}); \
         QEMU said: {stderr}; last console lines:\n{tail}"
    )]
    ExitedEarly {
        /// How QEMU ended.
        status: std::process::ExitStatus,
        /// The serial log file.
        log: PathBuf,
        /// QEMU's own stderr.
        stderr: String,
        /// The last lines of the serial console.
        tail: String,
    },
    /// QEMU did not exit in time.
    #[error("qemu: QEMU still running after {timeout:?} (serial log {log}); last lines:\n{tail}")]
    ExitTimeout {
        /// How long we waited.
        timeout: Duration,
        /// The serial log file.
        log: PathBuf,
        /// The last lines of the serial console.
        tail: String,
    },
    /// Waiting on or killing the QEMU process failed.
    #[error("qemu: cannot {action} the QEMU process (pid {pid}): {source}")]
    Process {
        /// "wait for" or "kill".
        action: &'static str,
        /// QEMU's pid.
        pid: u32,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}
