//! The pseudo file systems machined mounts itself.

use std::path::Path;

use super::{Mode, Paths};
use crate::sys::{MntFlags, Mount, MsFlags, SysResult, Syscall};

/// The mounts machined makes at `initialize`, in order, for `mode`.
///
/// In container mode `/dev` comes from the launcher; `/sys` is read-only (the namespace
/// must not reconfigure the host's devices). In metal mode `/init` provides the pseudo file
/// systems; machined adds a tmpfs for `/system` (the root is a read-only SquashFS).
pub fn pseudo_mounts(mode: Mode, paths: &Paths) -> Vec<Mount> {
    let safe = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    match mode {
        Mode::Container => vec![
            Mount::fs("proc", paths.host("/proc"), safe, None),
            Mount::fs("sysfs", paths.host("/sys"), safe | MsFlags::MS_RDONLY, None),
        ],
        // `/init` already mounted /proc, /sys, /dev, /run and /tmp and moved them into the new
        // root (see `initramfs::switch_root`); the root itself is read-only, so machined's
        // runtime directories live on a tmpfs.
        Mode::Metal => vec![Mount::fs(
            "tmpfs",
            paths.host("/system"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=0755"),
        )],
    }
}

/// Mounts [`pseudo_mounts`] in order; stops at the first failure.
pub fn mount_pseudo(sys: &dyn Syscall, mode: Mode, paths: &Paths) -> SysResult {
    for m in pseudo_mounts(mode, paths) {
        sys.mkdir_all(&m.target, 0o555)?;
        sys.mount(&m)?;
    }
    Ok(())
}

/// Detaches the pseudo file systems in reverse order (lazy unmount: never busy). Errors are
/// collected, not fatal: every mount is tried.
pub fn unmount_pseudo(sys: &dyn Syscall, mode: Mode, paths: &Paths) -> Vec<crate::sys::SysError> {
    pseudo_mounts(mode, paths)
        .iter()
        .rev()
        .filter_map(|m| sys.umount(Path::new(&m.target), MntFlags::MNT_DETACH).err())
        .collect()
}
