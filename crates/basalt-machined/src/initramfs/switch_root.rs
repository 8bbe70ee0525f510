//! Mounts the verified SquashFS read-only on `/newroot` and makes it `/`.
//!
//! Like busybox's `switch_root`: the initramfs root (rootfs) cannot be unmounted or
//! pivot_root'ed away, so the new root is moved over `/` and the process chroots into it.
//! The image must contain the mount points `/dev`, `/proc`, `/sys`, `/run` and `/tmp` (a
//! read-only SquashFS cannot get them later).

use std::path::{Path, PathBuf};

use super::{BootError, Env};
use crate::sys::{Mount, MsFlags};

/// Where the new root is mounted before the switch.
pub const NEW_ROOT: &str = "/newroot";

/// The mounts of the switch, in order.
pub fn plan(device: &Path) -> Vec<Mount> {
    let new = |p: &str| PathBuf::from(NEW_ROOT).join(p);
    let tmpfs = |target: PathBuf, mode: &str| {
        Mount::fs(
            "tmpfs",
            target,
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(mode),
        )
    };
    let mv = |from: &str| Mount {
        source: Some(PathBuf::from(from)),
        target: new(from.trim_start_matches('/')),
        fstype: None,
        flags: MsFlags::MS_MOVE,
        data: None,
    };
    vec![
        Mount {
            source: Some(device.to_path_buf()),
            target: PathBuf::from(NEW_ROOT),
            fstype: Some("squashfs".to_string()),
            flags: MsFlags::MS_RDONLY | MsFlags::MS_NODEV,
            data: None,
        },
        tmpfs(new("run"), "mode=0755"),
        tmpfs(new("tmp"), "mode=1777"),
        mv("/dev"),
        mv("/proc"),
        mv("/sys"),
    ]
}

/// Mounts, moves and switches root; afterwards `/` is the image and the cwd is `/`.
pub fn switch_root(env: &mut Env<'_>, device: &Path) -> Result<(), BootError> {
    env.sys.mkdir_all(Path::new(NEW_ROOT), 0o755)?;
    for m in plan(device) {
        env.sys.mount(&m)?;
    }
    env.sys.chdir(Path::new(NEW_ROOT))?;
    env.sys.mount(&Mount {
        source: Some(PathBuf::from(".")),
        target: PathBuf::from("/"),
        fstype: None,
        flags: MsFlags::MS_MOVE,
        data: None,
    })?;
    env.sys.chroot(Path::new("."))?;
    env.sys.chdir(Path::new("/"))?;
    Ok(())
}
