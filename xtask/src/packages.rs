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
];

/// Executables the test suite calls (real `openssl` checks our certificates).
pub const FOR_TESTS: &[&str] = &["openssl", "ip", "curl"];

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
