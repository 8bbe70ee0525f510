//! Root test with the real kernel: a real SquashFS (mksquashfs) signed with a test key is
//! verified, attached read-only to a real loop device and mounted read-only in a private mount
//! namespace; a tampered copy is refused before any loop device or mount.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use basalt_image::manifest::{
    generate_key, public_key_of, sha256_hex, Manifest, RootfsEntry, VerifyError,
    VERIFICATION_SHA256_FULL,
};
use basalt_machined::initramfs::{self, BootError, Env};
use basalt_machined::sys::{CloneFlags, Mount, MsFlags, RealSyscall, Syscall};

const GREETING: &str = "hello from a verified squashfs\n";

fn require_root_and_mksquashfs() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root (loop devices, mounts): run it as root, as `cargo xtask test` does"
    );
    match Command::new("mksquashfs").arg("-version").output() {
        Ok(_) => {}
        Err(e) => panic!(
            "mksquashfs is missing ({e}): install the Debian package squashfs-tools \
             (`apt-get install squashfs-tools`, or run `cargo xtask test`, which installs it)"
        ),
    }
}

/// An initramfs-like tree: rootfs.sqsh with /etc/greeting, manifest.json, manifest.sig.
fn image_tree(key: &[u8]) -> tempfile::TempDir {
    let tree = tempfile::tempdir().unwrap();
    let src = tree.path().join("src");
    std::fs::create_dir_all(src.join("etc")).unwrap();
    std::fs::write(src.join("etc/greeting"), GREETING).unwrap();
    let img = tree.path().join("rootfs.sqsh");
    let out = Command::new("mksquashfs")
        .arg(&src)
        .arg(&img)
        .args(["-noappend", "-no-progress", "-all-root"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mksquashfs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&img).unwrap();
    let manifest = Manifest {
        version: "0.1.0+000000000000".to_string(),
        verification: VERIFICATION_SHA256_FULL.to_string(),
        rootfs: RootfsEntry {
            sha256: sha256_hex(&bytes),
            size: bytes.len() as u64,
        },
        artifacts: BTreeMap::new(),
    };
    let (json, sig) = manifest.sign(key).unwrap();
    std::fs::write(tree.path().join("manifest.json"), json).unwrap();
    std::fs::write(tree.path().join("manifest.sig"), sig).unwrap();
    tree
}

fn env<'a>(sys: &'a RealSyscall, root: &Path, key: [u8; 32], console: &'a mut Vec<u8>) -> Env<'a> {
    Env {
        sys,
        root: root.to_path_buf(),
        public_key: Some(key),
        console,
        countdown_secs: 0,
    }
}

/// Loop devices whose backing file is `file`.
fn loops_backed_by(file: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/sys/block").unwrap() {
        let entry = entry.unwrap();
        let backing = entry.path().join("loop/backing_file");
        if let Ok(b) = std::fs::read_to_string(&backing) {
            if Path::new(b.trim()) == file {
                found.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    found
}

/// In a thread with a private mount namespace: mount `device` read-only at `mnt`, read the
/// greeting, check writes are refused, unmount.
fn read_greeting_in_private_namespace(device: PathBuf, mnt: PathBuf) -> String {
    std::thread::spawn(move || {
        let sys = RealSyscall;
        sys.unshare(CloneFlags::CLONE_NEWNS).unwrap();
        sys.mount(&Mount::flags_only(
            "/",
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        ))
        .unwrap();
        sys.mount(&Mount {
            source: Some(device),
            target: mnt.clone(),
            fstype: Some("squashfs".to_string()),
            flags: MsFlags::MS_RDONLY,
            data: None,
        })
        .unwrap();
        let text = std::fs::read_to_string(mnt.join("etc/greeting")).unwrap();
        let write = std::fs::write(mnt.join("etc/new"), b"x");
        assert!(write.is_err(), "writing into the read-only image succeeded");
        sys.umount(&mnt, nix::mount::MntFlags::empty()).unwrap();
        text
    })
    .join()
    .unwrap()
}

#[test]
fn verified_squashfs_attaches_read_only_and_mounts() {
    require_root_and_mksquashfs();
    let key = generate_key().unwrap();
    let public = public_key_of(&key).unwrap();
    let tree = image_tree(&key);
    let sys = RealSyscall;
    let mut console = Vec::new();
    let mut e = env(&sys, tree.path(), public, &mut console);
    let manifest = initramfs::verify::verify_image(&mut e).unwrap();
    assert_eq!(manifest.version, "0.1.0+000000000000");
    let device = initramfs::loopdev::attach(&mut e).unwrap();
    let name = device.file_name().unwrap().to_string_lossy().into_owned();
    let ro = std::fs::read_to_string(format!("/sys/block/{name}/ro")).unwrap();
    let mnt = tree.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let text = read_greeting_in_private_namespace(device.clone(), mnt);
    sys.loop_detach(&device).unwrap();
    assert_eq!(ro.trim(), "1", "{} is not read-only", device.display());
    assert_eq!(text, GREETING);
    let console = String::from_utf8(console).unwrap();
    assert!(
        console.contains("basalt: verified basalt image"),
        "{console}"
    );
    assert!(console.contains("attached to /dev/loop"), "{console}");
}

#[test]
fn tampered_squashfs_is_refused_before_any_loop_device_or_mount() {
    require_root_and_mksquashfs();
    let key = generate_key().unwrap();
    let public = public_key_of(&key).unwrap();
    let tree = image_tree(&key);
    let img = tree.path().join("rootfs.sqsh");
    let good = std::fs::read(&img).unwrap();
    for at in [0, 96, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        std::fs::write(&img, &bad).unwrap();
        let sys = RealSyscall;
        let mut console = Vec::new();
        let mut e = env(&sys, tree.path(), public, &mut console);
        let err = initramfs::verify::verify_image(&mut e).unwrap_err();
        assert!(
            matches!(err, BootError::Verify(VerifyError::HashMismatch { .. })),
            "offset {at}: {err}"
        );
        assert_eq!(loops_backed_by(&img), Vec::<String>::new());
    }
}
