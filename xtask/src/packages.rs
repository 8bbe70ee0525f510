//! System packages the project's tests and tools need, and how to install them (Debian).

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::cmd;

/// Which Debian package provides each executable we need.
pub const TABLE: &[(&str, &str)] = &[
    ("openssl", "openssl"),
    ("c++", "g++"),
    ("ip", "iproute2"),
    ("curl", "curl"),
    (QEMU, "qemu-system-x86"),
    ("apt-get", "apt"),
    ("dpkg-deb", "dpkg"),
    ("mksquashfs", "squashfs-tools"),
    ("unsquashfs", "squashfs-tools"),
    ("zstd", "zstd"),
    ("modinfo", "kmod"),
    ("dnsmasq", "dnsmasq-base"),
    ("mke2fs", "e2fsprogs"),
    ("losetup", "mount"),
    ("blkid", "util-linux"),
    ("sfdisk", "fdisk"),
    ("etcd", "etcd-server"),
    ("etcdctl", "etcd-client"),
];

/// Executables the test suite calls (real `openssl` checks our certificates).
pub const FOR_TESTS: &[&str] = &[
    "openssl", "ip", "curl", "dnsmasq", "mke2fs", "losetup", "blkid", "sfdisk", QEMU, "etcd",
    "etcdctl",
];

/// Executables the fuzz build needs (libfuzzer-sys compiles libFuzzer's C++ sources).
pub const FOR_FUZZ: &[&str] = &["c++"];

/// The Debian package that provides `binary`, if it is in [`TABLE`].
pub fn package_for(binary: &str) -> Option<&'static str> {
    TABLE
        .iter()
        .find(|(name, _)| *name == binary)
        .map(|(_, package)| *package)
}

/// Makes sure every executable in `binaries` is on PATH, installing the missing
/// packages with apt-get when running as root, and failing with what to install otherwise.
pub fn ensure(binaries: &[&str]) -> Result<()> {
    if binaries.contains(&QEMU) {
        ensure_qemu()?;
    }
    let binaries: Vec<&str> = binaries.iter().copied().filter(|b| *b != QEMU).collect();
    let binaries = binaries.as_slice();
    let mut missing = Vec::new();
    for binary in binaries {
        if find_on_path(binary).is_none() {
            let package = package_for(binary).with_context(|| {
                format!("xtask bug: no Debian package listed for `{binary}` in packages::TABLE")
            })?;
            missing.push(package);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort_unstable();
    missing.dedup();
    let list = missing.join(" ");
    if !is_root() {
        bail!(
            "missing system packages: {list}. Install them with \
             `sudo apt-get install -y --no-install-recommends {list}` and run again"
        );
    }
    println!("xtask: installing missing system packages: {list}");
    cmd::run(Command::new("apt-get").arg("update"))?;
    cmd::run(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    for binary in binaries {
        if find_on_path(binary).is_none() {
            bail!("`{binary}` is still not on PATH after installing {list}; check the apt output above");
        }
    }
    Ok(())
}

/// The QEMU system emulator the boot tests and the QEMU provisioner start.
pub const QEMU: &str = "qemu-system-x86_64";

/// Makes sure `qemu-system-x86_64 --version` runs; installs it when not (idempotent).
///
/// Some machines ship `qemu-utils` from bookworm-backports, which conflicts with bookworm's
/// `qemu-system-x86`; so both are installed at the same version (the candidate of
/// `qemu-system-x86`), downgrading `qemu-utils` when needed.
pub fn ensure_qemu() -> Result<()> {
    if qemu_runs() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "`{QEMU}` is missing or broken. Install it with `sudo apt-get update && sudo apt-get \
             install -y --no-install-recommends --allow-downgrades qemu-utils=V qemu-system-x86=V` \
             where V is the candidate shown by `apt-cache policy qemu-system-x86`, and run again"
        );
    }
    cmd::run(Command::new("apt-get").arg("update"))?;
    let policy = cmd::output(Command::new("apt-cache").args(["policy", "qemu-system-x86"]))?;
    let policy = String::from_utf8_lossy(&policy.stdout);
    let version = candidate_version(&policy).with_context(|| {
        format!("apt has no installable qemu-system-x86 (apt-cache policy says:\n{policy})")
    })?;
    println!("xtask: installing qemu-system-x86 and qemu-utils {version}");
    cmd::run(
        Command::new("apt-get")
            .args(["install", "-o", "DPkg::Lock::Timeout=300", "-y"])
            .args(["--no-install-recommends", "--allow-downgrades"])
            .arg(format!("qemu-utils={version}"))
            .arg(format!("qemu-system-x86={version}"))
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    if !qemu_runs() {
        bail!("`{QEMU} --version` still fails after installing qemu-system-x86 {version}; check the apt output above");
    }
    Ok(())
}

fn qemu_runs() -> bool {
    Command::new(QEMU)
        .arg("--version")
        .output()
        .map(|out| out.status.success())
        .unwrap_or(false)
}

/// The `Candidate:` version in `apt-cache policy` output, unless it is `(none)`.
fn candidate_version(policy: &str) -> Option<&str> {
    policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate:"))
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "(none)")
}

/// The full path of `binary` if an executable file of that name is on PATH.
pub fn find_on_path(binary: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(binary))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// True when the effective user id is 0 (read from `/proc/self/status`).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| effective_uid(&status))
        == Some(0)
}

/// The effective uid from the `Uid:` line of `/proc/<pid>/status` (real, effective, saved, fs).
fn effective_uid(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_needed_binary_has_a_package() {
        for binary in FOR_TESTS.iter().chain(FOR_FUZZ) {
            assert!(package_for(binary).is_some(), "{binary} not in TABLE");
        }
        assert_eq!(package_for("openssl"), Some("openssl"));
        assert_eq!(package_for("no-such-tool"), None);
    }

    #[test]
    fn qemu_candidate_version_is_parsed() {
        let policy = "qemu-system-x86:\n  Installed: (none)\n  Candidate: 1:7.2+dfsg-7+deb12u18+b3\n  Version table:\n";
        assert_eq!(candidate_version(policy), Some("1:7.2+dfsg-7+deb12u18+b3"));
        assert_eq!(candidate_version("x:\n  Candidate: (none)\n"), None);
        assert_eq!(candidate_version(""), None);
        assert_eq!(package_for(QEMU), Some("qemu-system-x86"));
    }

    #[test]
    fn effective_uid_reads_second_number() {
        let status = "Name:\tx\nUid:\t1000\t0\t1000\t1000\nGid:\t5\t5\t5\t5\n";
        assert_eq!(effective_uid(status), Some(0));
        assert_eq!(effective_uid("Name:\tx\n"), None);
    }

    #[test]
    fn find_on_path_finds_sh_but_not_nonsense() {
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("definitely-not-a-real-binary-xyz").is_none());
    }
}
