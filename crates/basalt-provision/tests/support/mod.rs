//! Shared pieces of the QEMU boot tests: real inputs (Debian's kernel from its .deb, the static
//! `basalt` binary) and a tiny newc initramfs writer.
#![allow(dead_code, clippy::unwrap_used)]

pub mod cpio;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// Scratch space for the QEMU tests under `target/qemu-test/<name>` (kept for inspection).
pub fn scratch(name: &str) -> PathBuf {
    let dir = workspace_root().join("target/qemu-test").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Panics with the Debian package to install when `binary` is not on PATH.
pub fn require(binary: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(binary).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{binary}` is not installed: run `cargo xtask test` as root (it installs system packages) \
         or `apt-get install --no-install-recommends {package}`"
    );
}

/// Runs `cmd`, panicking with its output when it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Debian's kernel (`vmlinuz-<kver>` from the `linux-image-<kver>-amd64` .deb that
/// `linux-image-amd64` depends on), downloaded with `apt-get download` and unpacked with
/// `dpkg-deb -x` under `target/qemu-test/kernel` — never the host's /boot.
pub fn debian_kernel() -> PathBuf {
    require("apt-get", "apt");
    require("dpkg-deb", "dpkg");
    let root = workspace_root().join("target/qemu-test/kernel");
    if let Some(found) = find_vmlinuz(&root.join("tree/boot")) {
        return found;
    }
    let depends = run(Command::new("apt-cache").args(["depends", "linux-image-amd64"]));
    let package = depends
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("linux-image-"))
        .unwrap_or_else(|| {
            panic!("apt-cache depends linux-image-amd64 names no kernel:\n{depends}")
        })
        .to_string();
    let debs = root.join("debs");
    std::fs::create_dir_all(&debs).unwrap();
    run(Command::new("apt-get")
        .args(["download", &package])
        .current_dir(&debs));
    let deb = std::fs::read_dir(&debs)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(&package) && name.ends_with(".deb")
        })
        .unwrap_or_else(|| {
            panic!(
                "apt-get download {package} left no .deb in {}",
                debs.display()
            )
        });
    // Unpack into a temporary tree and rename it, so a half-unpacked tree is never used.
    let partial = root.join("tree.partial");
    let _ = std::fs::remove_dir_all(&partial);
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&partial));
    let tree = root.join("tree");
    let _ = std::fs::remove_dir_all(&tree);
    std::fs::rename(&partial, &tree).unwrap();
    find_vmlinuz(&tree.join("boot"))
        .unwrap_or_else(|| panic!("{} holds no boot/vmlinuz-*", deb.display()))
}

fn find_vmlinuz(boot: &Path) -> Option<PathBuf> {
    std::fs::read_dir(boot)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
}

/// The static `basalt` binary, built as the image builder builds it:
/// `RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --target
/// x86_64-unknown-linux-gnu -p basalt --target-dir target/static`.
///
/// `BASALT_IMAGE_PUBLIC_KEY` is passed on from the environment, or else derived from the
/// signing key `~/.basalt/image-signing.pk8` when it exists, so this build and
/// `cargo xtask image` share one cached binary instead of rebuilding each other's.
///
/// `BASALT_TEST_STATIC_BASALT=PATH` uses an already built static binary instead.
pub fn static_basalt() -> PathBuf {
    if let Some(prebuilt) = std::env::var_os("BASALT_TEST_STATIC_BASALT") {
        return PathBuf::from(prebuilt);
    }
    let root = workspace_root();
    let target_dir = root.join("target/static");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--target",
        "x86_64-unknown-linux-gnu",
        "-p",
        "basalt",
        "--target-dir",
    ])
    .arg(&target_dir)
    .current_dir(&root)
    .env("RUSTFLAGS", "-C target-feature=+crt-static")
    .env_remove("CARGO_TARGET_DIR")
    .env_remove("CARGO_BUILD_TARGET");
    if std::env::var_os("BASALT_IMAGE_PUBLIC_KEY").is_none() {
        if let Some(key) = signing_public_key_hex() {
            cmd.env("BASALT_IMAGE_PUBLIC_KEY", key);
        }
    }
    run(&mut cmd);
    let binary = target_dir.join("x86_64-unknown-linux-gnu/release/basalt");
    assert!(binary.is_file(), "cargo build left no {}", binary.display());
    binary
}

/// The public half (64 lower-case hex characters) of `~/.basalt/image-signing.pk8`, if present.
pub fn signing_public_key_hex() -> Option<String> {
    use ring::signature::KeyPair;
    let home = std::env::var_os("HOME")?;
    let pkcs8 = std::fs::read(Path::new(&home).join(".basalt/image-signing.pk8")).ok()?;
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8).ok()?;
    Some(
        pair.public_key()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}
