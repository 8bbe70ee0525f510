//! STATE and EPHEMERAL on a disk in metal mode: find the disk whose GPT names both partitions,
//! or partition and format a blank one ([`prepare`]); mount them, or tmpfs when there is no
//! disk; publish `VolumeStatuses.runtime.basalt.dev`.
//!
//! Layout: GPT, 1 MiB aligned, partition 1 `STATE` (100 MiB), partition 2 `EPHEMERAL` (the
//! rest), both ext4 (formatted by the image's `mke2fs`).

mod crc32;
mod format;
pub mod gpt;
mod guid;
mod mount;
mod provision;
pub mod select;
mod status;

use std::path::PathBuf;

pub use format::{mke2fs, MKE2FS};
pub use guid::Guid;
pub use mount::{detach_volume, is_busy, mount_volume, unmount_volume, Volume, VolumeMount};
pub use provision::{create, prepare, wait_for_devices, Prepared};
pub use select::{BlockEnv, Choice, DiskInfo, SystemDisk};
pub use status::{definition, publish, published, VolumeOrigin, VolumeStatusSpec};

/// A disk problem: what, on which device or file, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// Reading or writing a device or sysfs file failed.
    #[error("cannot {what} {path}: {source}", path = path.display())]
    Io {
        /// The operation, e.g. `open`.
        what: String,
        /// The device or file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A sysfs attribute is missing or not a number.
    #[error("cannot read the block device attribute {path}: is the device present?", path = path.display())]
    Sysfs {
        /// The attribute file.
        path: PathBuf,
    },
    /// The partition table of a device.
    #[error("disk {device}: {source}", device = device.display())]
    Gpt {
        /// The whole disk.
        device: PathBuf,
        /// What is wrong with its table.
        source: gpt::GptError,
    },
    /// `basalt.disk=` does not name a device.
    #[error("basalt.disk={value} does not name a block device; use e.g. basalt.disk=/dev/vda", value = value.display())]
    Argument {
        /// The given value.
        value: PathBuf,
    },
    /// Partition device nodes did not appear after the table was re-read.
    #[error("{devices} did not appear within {seconds} s after re-reading the partition table of {disk}; is devtmpfs mounted on /dev?", disk = disk.display())]
    NoPartitionNodes {
        /// The whole disk.
        disk: PathBuf,
        /// The missing nodes.
        devices: String,
        /// How long we waited.
        seconds: u64,
    },
    /// A system call failed.
    #[error(transparent)]
    Sys(#[from] crate::sys::SysError),
    /// `mke2fs` could not run or failed.
    #[error("mke2fs {device} (label {label}) failed: {why}; is {program} (Debian package e2fsprogs) in the image?", device = device.display(), program = program.display())]
    Format {
        /// The program.
        program: PathBuf,
        /// The partition.
        device: PathBuf,
        /// The label.
        label: String,
        /// Exit status and stderr, or the spawn error.
        why: String,
    },
}
