//! Shared pieces of the QEMU boot tests: real inputs (Debian's kernel from its .deb, the static
//! `basalt` binary) from the image builder, and a newc archive helper.
#![allow(dead_code, clippy::unwrap_used)]

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

/// Debian's kernel pinned in `image/inputs.yaml`, fetched and unpacked by `basalt_image` into
/// the image build's cache (`target/image-cache`, shared with `cargo xtask image`) — never the
/// host's /boot.
pub fn debian_kernel() -> PathBuf {
    let root = workspace_root();
    let inputs = basalt_image::inputs::Inputs::load(&root.join("image/inputs.yaml")).unwrap();
    let package = inputs
        .kernel_package()
        .expect("image/inputs.yaml pins no kernel package");
    let cache = root.join("target/image-cache");
    let deb = basalt_image::fetch::fetch(package, &cache).unwrap();
    let tree = basalt_image::fetch::unpacked(package, &deb, &cache).unwrap();
    basalt_image::kernel::vmlinuz(&tree, &inputs.kernel.release).unwrap()
}

/// The static `basalt` binary, built exactly as `cargo xtask image` builds it (same target dir,
/// same public key from `~/.basalt/image-signing.pk8`), so the two share one cached binary.
/// `BASALT_TEST_STATIC_BASALT=PATH` uses an already built static binary instead.
pub fn static_basalt() -> PathBuf {
    if let Some(prebuilt) = std::env::var_os("BASALT_TEST_STATIC_BASALT") {
        return PathBuf::from(prebuilt);
    }
    let key = basalt_image::keys::default_path().expect("HOME is not set");
    let (_, public, _) = basalt_image::keys::load_or_create(&key).unwrap();
    basalt_image::binary::build_static(&workspace_root(), &basalt_image::hex(&public)).unwrap()
}

/// A newc archive of `entries` (the image builder's writer).
pub fn newc(entries: Vec<basalt_image::cpio::Entry>) -> Vec<u8> {
    let mut out = Vec::new();
    basalt_image::cpio::write(entries, &mut out).unwrap();
    out
}

/// A cpio member.
pub fn entry(path: &str, mode: u32, kind: basalt_image::cpio::Kind) -> basalt_image::cpio::Entry {
    basalt_image::cpio::Entry {
        path: path.to_string(),
        mode,
        kind,
    }
}
