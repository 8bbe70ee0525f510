//! Building the node's root file system inside the launcher's new mount namespace.
//!
//! Every privileged step goes through [`Syscall`], so the exact sequence is unit-tested
//! with [`crate::sys::RecordingSyscall`].

use std::path::{Path, PathBuf};

use super::LaunchOptions;
use crate::platform::Paths;
use crate::sys::{MntFlags, Mount, MsFlags, SysResult, Syscall};

/// Directories the root must already contain (the launcher never writes into it).
pub const MOUNT_POINTS: &[&str] = &["proc", "sys", "dev", "run", "tmp", "system", "var"];

/// Host device nodes bound into the node's `/dev`.
pub const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

/// Where a `--config FILE` is copied inside the node.
pub const LAUNCH_CONFIG: &str = "/run/basalt/config.yaml";

/// Where a `--maintenance-ca FILE` is copied inside the node.
pub const LAUNCH_MAINTENANCE_CA: &str = "/run/basalt/maintenance-ca.crt";

/// Mount points missing from `root` (empty when the root is usable), and the binary if absent.
pub fn missing_entries(root: &Path, exe: &Path) -> Vec<PathBuf> {
    let mut missing: Vec<PathBuf> = MOUNT_POINTS
        .iter()
        .map(|m| root.join(m))
        .filter(|p| !p.is_dir())
        .collect();
    let exe = root.join(exe.strip_prefix("/").unwrap_or(exe));
    if !exe.is_file() {
        missing.push(exe);
    }
    missing
}

/// Makes every mount in the (new) mount namespace private, so nothing propagates to the host.
pub fn make_private(sys: &dyn Syscall) -> SysResult {
    sys.mount(&Mount::flags_only(
        "/",
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
    ))
}

/// Attaches the SquashFS `image` read-only to a loop device and mounts it (read-only, no
/// setuid, no devices) on `root`. The loop device is detached right away: the kernel defers
/// that until the last mount goes, so it disappears with the node's mount namespace.
pub fn mount_image(sys: &dyn Syscall, image: &Path, root: &Path) -> SysResult {
    let device = sys.loop_attach(image)?;
    let mount = Mount {
        source: Some(device.clone()),
        target: root.to_path_buf(),
        fstype: Some("squashfs".to_string()),
        flags: MsFlags::MS_RDONLY | MsFlags::MS_NODEV,
        data: None,
    };
    let mounted = sys.mount(&mount);
    let detached = sys.loop_detach(&device);
    mounted?;
    detached
}

/// Mounts everything under `opts.root` (see the module docs of `container`); does not pivot.
pub fn build(sys: &dyn Syscall, opts: &LaunchOptions) -> SysResult {
    let node = Paths::under(&opts.root);
    let nosuid_nodev = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    sys.mount(&Mount::bind(&opts.root, &opts.root))?;
    sys.mount(&Mount::flags_only(
        &opts.root,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
    ))?;
    sys.mount(&Mount::fs(
        "tmpfs",
        node.host("/run"),
        nosuid_nodev,
        Some("mode=0755"),
    ))?;
    sys.mount(&Mount::fs(
        "tmpfs",
        node.host("/tmp"),
        nosuid_nodev,
        Some("mode=1777"),
    ))?;
    sys.mount(&Mount::fs(
        "tmpfs",
        node.host("/system"),
        nosuid_nodev,
        Some("mode=0755"),
    ))?;
    sys.mkdir_all(&node.host(Paths::STATE), 0o700)?;
    sys.mkdir_all(&node.host(Paths::SOCKET_DIR), 0o755)?;
    sys.mount(&Mount::bind(&opts.state, node.host(Paths::STATE)))?;
    sys.mount(&Mount::bind(&opts.ephemeral, node.host(Paths::EPHEMERAL)))?;
    if let Some(dir) = &opts.socket_dir {
        sys.mount(&Mount::bind(dir, node.host(Paths::SOCKET_DIR)))?;
    }
    build_dev(sys, &node)
}

/// A tmpfs `/dev` with only the harmless host devices bound in.
fn build_dev(sys: &dyn Syscall, node: &Paths) -> SysResult {
    let dev = node.host("/dev");
    sys.mount(&Mount::fs(
        "tmpfs",
        &dev,
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("mode=0755"),
    ))?;
    for name in DEVICES {
        let target = dev.join(name);
        sys.create_file(&target, 0o666)?;
        sys.mount(&Mount::bind(Path::new("/dev").join(name), &target))?;
    }
    sys.mkdir_all(&dev.join("shm"), 0o1777)?;
    sys.mount(&Mount::fs(
        "tmpfs",
        dev.join("shm"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=1777"),
    ))?;
    sys.symlink(Path::new("/proc/self/fd"), &dev.join("fd"))?;
    for (i, name) in ["stdin", "stdout", "stderr"].iter().enumerate() {
        sys.symlink(
            &PathBuf::from(format!("/proc/self/fd/{i}")),
            &dev.join(name),
        )?;
    }
    Ok(())
}

/// Makes `new_root` the root of the mount namespace and detaches the old root.
pub fn pivot(sys: &dyn Syscall, new_root: &Path) -> SysResult {
    sys.chdir(new_root)?;
    sys.pivot_root(Path::new("."), Path::new("."))?;
    sys.umount(Path::new("."), MntFlags::MNT_DETACH)?;
    sys.chdir(Path::new("/"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sys::RecordingSyscall;

    fn opts(socket: bool) -> LaunchOptions {
        LaunchOptions {
            root: "/r".into(),
            root_image: None,
            netns: None,
            state: "/host/state".into(),
            ephemeral: "/host/eph".into(),
            hostname: None,
            config: None,
            maintenance_ca: None,
            socket_dir: socket.then(|| "/host/sock".into()),
            exe: "/usr/bin/basalt".into(),
        }
    }

    #[test]
    fn root_is_read_only_before_anything_is_mounted_on_it() {
        let sys = RecordingSyscall::new();
        build(&sys, &opts(true)).unwrap();
        let calls = sys.calls();
        assert_eq!(calls[0], "mount /r on /r flags MS_BIND");
        assert_eq!(calls[1], "mount on /r flags MS_RDONLY|MS_REMOUNT|MS_BIND");
        assert!(calls.contains(&"mount /host/state on /r/system/state flags MS_BIND".to_string()));
        assert!(calls.contains(&"mount /host/eph on /r/var flags MS_BIND".to_string()));
        assert!(
            calls.contains(&"mount /host/sock on /r/system/run/machined flags MS_BIND".to_string())
        );
        // state is bound after the tmpfs /system that holds its mount point
        let pos = |needle: &str| calls.iter().position(|c| c.contains(needle)).unwrap();
        assert!(pos("tmpfs on /r/system ") < pos("/host/state on"));
    }

    #[test]
    fn dev_holds_only_the_listed_devices() {
        let sys = RecordingSyscall::new();
        build(&sys, &opts(false)).unwrap();
        let binds: Vec<String> = sys
            .calls()
            .into_iter()
            .filter(|c| c.starts_with("mount /dev/"))
            .collect();
        assert_eq!(binds.len(), DEVICES.len());
        assert!(binds.contains(&"mount /dev/null on /r/dev/null flags MS_BIND".to_string()));
        assert!(!sys
            .calls()
            .iter()
            .any(|c| c.contains("/r/system/run/machined flags MS_BIND")));
    }

    #[test]
    fn first_failure_stops_the_build() {
        let sys = RecordingSyscall::new();
        sys.fail_on("on /r/tmp");
        let err = build(&sys, &opts(false)).unwrap_err();
        assert!(err.to_string().contains("tmpfs on /r/tmp"), "{err}");
        assert!(sys.calls().last().unwrap().contains("/r/tmp"));
    }

    #[test]
    fn image_is_mounted_read_only_and_its_loop_device_detached() {
        let sys = RecordingSyscall::new();
        mount_image(&sys, Path::new("/c/rootfs.sqsh"), Path::new("/r")).unwrap();
        let calls = sys.calls();
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert!(calls[0].contains("/c/rootfs.sqsh"), "{calls:?}");
        assert!(
            calls[1].contains("on /r") && calls[1].contains("squashfs"),
            "{calls:?}"
        );
        assert!(calls[1].contains("MS_RDONLY"), "{calls:?}");
    }

    #[test]
    fn pivot_uses_dot_dot_and_detaches() {
        let sys = RecordingSyscall::new();
        pivot(&sys, Path::new("/r")).unwrap();
        assert_eq!(
            sys.calls(),
            vec![
                "chdir /r",
                "pivot_root . .",
                "umount . flags MNT_DETACH",
                "chdir /"
            ]
        );
    }
}
