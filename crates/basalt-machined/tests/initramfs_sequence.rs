//! The `/init` boot path with privileged calls recorded: the exact order of a good boot, and
//! every verification or boot failure ending in the console message, a countdown and a reboot
//! without ever mounting the image or executing machined.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use basalt_image::manifest::{
    generate_key, public_key_of, sha256_hex, Manifest, RootfsEntry, VERIFICATION_SHA256_FULL,
};
use basalt_machined::initramfs::{self, Env};
use basalt_machined::sys::RecordingSyscall;

const KVER: &str = "6.1.0-test-amd64";
const MODULES: [&str; 3] = [
    "kernel/drivers/virtio/virtio.ko",
    "kernel/drivers/block/virtio_blk.ko",
    "kernel/fs/squashfs/squashfs.ko",
];

/// A fake initramfs tree: modules, a rootfs, a manifest signed with `key`.
struct Tree {
    dir: tempfile::TempDir,
    rootfs: Vec<u8>,
}

impl Tree {
    fn new(key: &[u8]) -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let mods = dir.path().join("lib/modules").join(KVER);
        for m in MODULES {
            let p = mods.join(m);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"\x7fELF fake module").unwrap();
        }
        let order = format!("# load order\n{}\n\n", MODULES.join("\n"));
        std::fs::write(mods.join("modules.order"), order).unwrap();
        let rootfs: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        std::fs::write(dir.path().join("rootfs.sqsh"), &rootfs).unwrap();
        let tree = Tree { dir, rootfs };
        tree.sign(key);
        tree
    }

    fn sign(&self, key: &[u8]) {
        let manifest = Manifest {
            version: "0.1.0+abcdefabcdef".to_string(),
            verification: VERIFICATION_SHA256_FULL.to_string(),
            rootfs: RootfsEntry {
                sha256: sha256_hex(&self.rootfs),
                size: self.rootfs.len() as u64,
            },
            artifacts: BTreeMap::from([("vmlinuz".to_string(), sha256_hex(b"k"))]),
        };
        let (bytes, sig) = manifest.sign(key).unwrap();
        std::fs::write(self.path().join("manifest.json"), bytes).unwrap();
        std::fs::write(self.path().join("manifest.sig"), sig).unwrap();
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Runs `/init` on `tree`; returns (exit code, calls, console text).
fn run(tree: &Tree, key: Option<[u8; 32]>, sys: &RecordingSyscall) -> (i32, Vec<String>, String) {
    let mut console = Vec::new();
    let mut env = Env {
        sys,
        root: tree.path().to_path_buf(),
        public_key: key,
        console: &mut console,
        countdown_secs: 10,
    };
    let code = initramfs::run(&mut env);
    (code, sys.calls(), String::from_utf8(console).unwrap())
}

#[test]
fn good_image_boots_in_the_exact_order() {
    let key = generate_key().unwrap();
    let tree = Tree::new(&key);
    let sys = RecordingSyscall::new();
    let (code, calls, console) = run(&tree, Some(public_key_of(&key).unwrap()), &sys);
    assert_eq!(code, 0, "{console}");
    let root = tree.path().display().to_string();
    let mods = format!("{root}/lib/modules/{KVER}");
    let expected = vec![
        "mkdir /proc 755".to_string(),
        "mount proc on /proc type proc flags MS_NOSUID|MS_NODEV|MS_NOEXEC".to_string(),
        "mkdir /sys 755".to_string(),
        "mount sysfs on /sys type sysfs flags MS_NOSUID|MS_NODEV|MS_NOEXEC".to_string(),
        "mkdir /dev 755".to_string(),
        "mount devtmpfs on /dev type devtmpfs flags MS_NOSUID data mode=0755".to_string(),
        "console /dev/console".to_string(),
        format!("finit_module {mods}/{}", MODULES[0]),
        format!("finit_module {mods}/{}", MODULES[1]),
        format!("finit_module {mods}/{}", MODULES[2]),
        format!("loop attach {root}/rootfs.sqsh"),
        "mkdir /newroot 755".to_string(),
        "mount /dev/loop0 on /newroot type squashfs flags MS_RDONLY|MS_NODEV".to_string(),
        "mount tmpfs on /newroot/run type tmpfs flags MS_NOSUID|MS_NODEV data mode=0755"
            .to_string(),
        "mount tmpfs on /newroot/tmp type tmpfs flags MS_NOSUID|MS_NODEV data mode=1777"
            .to_string(),
        "mount /dev on /newroot/dev flags MS_MOVE".to_string(),
        "mount /proc on /newroot/proc flags MS_MOVE".to_string(),
        "mount /sys on /newroot/sys flags MS_MOVE".to_string(),
        "chdir /newroot".to_string(),
        "mount . on / flags MS_MOVE".to_string(),
        "chroot .".to_string(),
        "chdir /".to_string(),
        "exec /usr/bin/basalt /usr/bin/basalt machined --platform metal \
         --image-version 0.1.0+abcdefabcdef"
            .to_string(),
    ];
    assert_eq!(calls, expected, "console:\n{console}");
    assert!(
        console.contains("basalt: loaded 3 kernel modules"),
        "{console}"
    );
    assert!(
        console.contains("basalt: verified basalt image 0.1.0+abcdefabcdef"),
        "{console}"
    );
    assert!(!console.contains("FAILED"), "{console}");
}

/// The failure path: message, 10 one-second ticks, sync, reboot; nothing from the image used.
fn assert_refused(calls: &[String], console: &str, code: i32, headline: &str, reason: &str) {
    assert_eq!(code, 1);
    let line = format!("basalt: {headline}: ");
    let first = console
        .lines()
        .find(|l| l.starts_with(&line))
        .unwrap_or_else(|| panic!("no {line:?} line in console:\n{console}"));
    assert!(first.contains(reason), "{first:?} lacks {reason:?}");
    for left in 1..=10 {
        assert!(
            console.contains(&format!("basalt: rebooting in {left}...")),
            "{console}"
        );
    }
    let tail: Vec<&str> = calls
        .iter()
        .rev()
        .take(12)
        .rev()
        .map(String::as_str)
        .collect();
    let mut expected = vec!["sleep 1000ms"; 10];
    expected.extend(["sync", "reboot RB_AUTOBOOT"]);
    assert_eq!(tail, expected, "calls: {calls:#?}");
    for call in calls {
        for forbidden in ["loop attach", "type squashfs", "chroot", "exec "] {
            assert!(
                !call.contains(forbidden),
                "{call:?} after a refusal; calls: {calls:#?}"
            );
        }
    }
}

#[test]
fn tampered_rootfs_is_refused_at_several_offsets() {
    let key = generate_key().unwrap();
    let public = public_key_of(&key).unwrap();
    let tree = Tree::new(&key);
    let len = tree.rootfs.len();
    for at in [0, 4096, len / 2, len - 1] {
        let mut bad = tree.rootfs.clone();
        bad[at] ^= 0x20;
        std::fs::write(tree.path().join("rootfs.sqsh"), &bad).unwrap();
        let sys = RecordingSyscall::new();
        let (code, calls, console) = run(&tree, Some(public), &sys);
        assert_refused(
            &calls,
            &console,
            code,
            "IMAGE VERIFICATION FAILED",
            &format!(
                "rootfs hash mismatch for {}/rootfs.sqsh: manifest says sha256 {}, file has {}",
                tree.path().display(),
                sha256_hex(&tree.rootfs),
                sha256_hex(&bad)
            ),
        );
    }
}

#[test]
fn image_signed_with_another_key_is_refused() {
    let key = generate_key().unwrap();
    let other = public_key_of(&generate_key().unwrap()).unwrap();
    let tree = Tree::new(&key);
    let sys = RecordingSyscall::new();
    let (code, calls, console) = run(&tree, Some(other), &sys);
    assert_refused(
        &calls,
        &console,
        code,
        "IMAGE VERIFICATION FAILED",
        "bad signature",
    );
}

#[test]
fn binary_without_a_built_in_key_refuses_every_image() {
    let key = generate_key().unwrap();
    let tree = Tree::new(&key);
    let sys = RecordingSyscall::new();
    let (code, calls, console) = run(&tree, None, &sys);
    assert_refused(
        &calls,
        &console,
        code,
        "IMAGE VERIFICATION FAILED",
        "no image public key is built into this basalt binary",
    );
}

#[test]
fn missing_signature_file_is_refused() {
    let key = generate_key().unwrap();
    let tree = Tree::new(&key);
    std::fs::remove_file(tree.path().join("manifest.sig")).unwrap();
    let sys = RecordingSyscall::new();
    let (code, calls, console) = run(&tree, Some(public_key_of(&key).unwrap()), &sys);
    assert_refused(
        &calls,
        &console,
        code,
        "IMAGE VERIFICATION FAILED",
        "manifest.sig",
    );
}

#[test]
fn missing_module_is_named_and_nothing_later_loads() {
    let key = generate_key().unwrap();
    let tree = Tree::new(&key);
    let missing = tree.path().join("lib/modules").join(KVER).join(MODULES[1]);
    std::fs::remove_file(&missing).unwrap();
    let sys = RecordingSyscall::new();
    let (code, calls, console) = run(&tree, Some(public_key_of(&key).unwrap()), &sys);
    assert_refused(
        &calls,
        &console,
        code,
        "BOOT FAILED",
        &format!(
            "kernel module virtio_blk listed in {}",
            tree.path()
                .join("lib/modules")
                .join(KVER)
                .join("modules.order")
                .display()
        ),
    );
    let loads: Vec<&String> = calls.iter().filter(|c| c.starts_with("finit")).collect();
    assert_eq!(loads.len(), 1, "{calls:#?}");
}

#[test]
fn initramfs_without_modules_is_a_clear_boot_failure() {
    let key = generate_key().unwrap();
    let tree = Tree::new(&key);
    std::fs::remove_dir_all(tree.path().join("lib")).unwrap();
    let sys = RecordingSyscall::new();
    let (code, calls, console) = run(&tree, Some(public_key_of(&key).unwrap()), &sys);
    assert_refused(
        &calls,
        &console,
        code,
        "BOOT FAILED",
        "no modules.order under",
    );
}

#[test]
fn failing_mount_of_the_image_stops_before_switch_root() {
    let key = generate_key().unwrap();
    let tree = Tree::new(&key);
    let sys = RecordingSyscall::new();
    sys.fail_on("type squashfs");
    let mut console = Vec::new();
    let mut env = Env {
        sys: &sys,
        root: tree.path().to_path_buf(),
        public_key: Some(public_key_of(&key).unwrap()),
        console: &mut console,
        countdown_secs: 3,
    };
    assert_eq!(initramfs::run(&mut env), 1);
    let console = String::from_utf8(console).unwrap();
    assert!(
        console.contains("basalt: BOOT FAILED: mount /dev/loop0 on /newroot type squashfs"),
        "{console}"
    );
    let calls = sys.calls();
    assert!(calls
        .iter()
        .all(|c| !c.starts_with("chroot") && !c.starts_with("exec")));
    assert_eq!(calls.iter().filter(|c| c.starts_with("sleep")).count(), 3);
    assert_eq!(calls.last().map(String::as_str), Some("reboot RB_AUTOBOOT"));
}
