//! Mounting STATE and EPHEMERAL (ext4 from a partition, or tmpfs) and unmounting them.

use std::path::{Path, PathBuf};

use super::status::{VolumeOrigin, VolumeStatusSpec};
use crate::platform::Paths;
use crate::sys::{MntFlags, Mount, MsFlags, SysError, Syscall};

/// One of the two volumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Volume {
    /// `/system/state`: the machine config and node identity.
    State,
    /// `/var`.
    Ephemeral,
}

impl Volume {
    /// GPT and filesystem label, also the resource id.
    pub fn label(self) -> &'static str {
        match self {
            Volume::State => "STATE",
            Volume::Ephemeral => "EPHEMERAL",
        }
    }

    /// Mount point inside the node.
    pub fn mount_point(self) -> &'static str {
        match self {
            Volume::State => Paths::STATE,
            Volume::Ephemeral => Paths::EPHEMERAL,
        }
    }

    /// Mount flags: STATE holds only data (`nosuid,nodev,noexec`); EPHEMERAL holds container
    /// images and runtimes that execute from it (`/var/lib/containerd`), so it gets none.
    pub fn flags(self) -> MsFlags {
        match self {
            Volume::State => MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            Volume::Ephemeral => MsFlags::empty(),
        }
    }
}

/// The partition to mount for a volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeMount {
    /// Partition device node.
    pub device: PathBuf,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Found or created.
    pub origin: VolumeOrigin,
}

fn tmpfs_status(volume: Volume) -> VolumeStatusSpec {
    VolumeStatusSpec {
        device: "tmpfs".into(),
        filesystem: "tmpfs".into(),
        size_bytes: 0,
        mount_point: volume.mount_point().into(),
        origin: VolumeOrigin::Tmpfs,
        mounted: true,
    }
}

fn mount_tmpfs(sys: &dyn Syscall, target: &Path, volume: Volume) -> Result<(), SysError> {
    let flags = volume.flags() | MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    sys.mount(&Mount::fs("tmpfs", target, flags, Some("mode=0755")))
}

/// Mounts `volume` at its mount point under `paths`: the ext4 partition `part`, or tmpfs when
/// `part` is `None` or the partition does not mount (corrupt, wrong filesystem: the console
/// line in `log` says so and the partition is left untouched). Fails only when not even tmpfs
/// mounts.
pub fn mount_volume(
    sys: &dyn Syscall,
    paths: &Paths,
    volume: Volume,
    part: Option<&VolumeMount>,
    log: &mut dyn FnMut(String),
) -> Result<VolumeStatusSpec, SysError> {
    let target = paths.host(volume.mount_point());
    sys.mkdir_all(&target, 0o755)?;
    if let Some(part) = part {
        let m = Mount {
            source: Some(part.device.clone()),
            target: target.clone(),
            fstype: Some("ext4".into()),
            flags: volume.flags(),
            data: None,
        };
        match sys.mount(&m) {
            Ok(()) => {
                log(format!(
                    "{} ({}, ext4, {} MiB, {}) mounted on {}",
                    volume.label(),
                    part.device.display(),
                    part.size_bytes >> 20,
                    match part.origin {
                        VolumeOrigin::Created => "created",
                        VolumeOrigin::Found => "found",
                        VolumeOrigin::Tmpfs => "tmpfs",
                    },
                    volume.mount_point()
                ));
                return Ok(VolumeStatusSpec {
                    device: part.device.display().to_string(),
                    filesystem: "ext4".into(),
                    size_bytes: part.size_bytes,
                    mount_point: volume.mount_point().into(),
                    origin: part.origin,
                    mounted: true,
                });
            }
            Err(e) => log(format!(
                "{} on {} cannot be mounted ({e}): the partition is left as is and {} is a tmpfs; \
                 nothing written there persists. Check the disk, or wipe it to let Basalt recreate it",
                volume.label(),
                part.device.display(),
                volume.mount_point()
            )),
        }
    }
    mount_tmpfs(sys, &target, volume)?;
    Ok(tmpfs_status(volume))
}

/// Unmounts `volume` once (no lazy fallback); see [`is_busy`] and [`detach_volume`].
pub fn unmount_volume(sys: &dyn Syscall, paths: &Paths, volume: Volume) -> Result<(), SysError> {
    sys.umount(&paths.host(volume.mount_point()), MntFlags::empty())
}

/// Whether an unmount failed because files on the volume are still open (`EBUSY`).
pub fn is_busy(e: &SysError) -> bool {
    e.cause.raw_os_error() == Some(nix::errno::Errno::EBUSY as i32)
}

/// Detaches `volume` lazily (the kernel finishes once the last file closes).
pub fn detach_volume(sys: &dyn Syscall, paths: &Paths, volume: Volume) -> Result<(), SysError> {
    sys.umount(&paths.host(volume.mount_point()), MntFlags::MNT_DETACH)
}
