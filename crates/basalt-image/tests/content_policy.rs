//! Content policy of a real image: no shell, no ssh, no coreutils, no package manager; only
//! Basalt and the pinned runtimes; the initramfs holds what `/init` needs; the manifest
//! verifies with the key compiled into the image.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::io::Read;

use basalt_image::squashfs;

/// Names that must never appear anywhere in the image.
const FORBIDDEN: &[&str] = &[
    // shells
    "sh",
    "bash",
    "dash",
    "ash",
    "busybox",
    "zsh",
    "ksh",
    "toybox",
    // remote access
    "ssh",
    "sshd",
    "dropbear",
    "telnet",
    "telnetd",
    // coreutils and friends
    "ls",
    "cat",
    "cp",
    "mv",
    "rm",
    "ln",
    "mkdir",
    "rmdir",
    "chmod",
    "chown",
    "echo",
    "dd",
    "df",
    "du",
    "head",
    "tail",
    "sort",
    "env",
    "touch",
    "mount",
    "umount",
    "ps",
    "kill",
    "coreutils",
    "sudo",
    "su",
    "login",
    "getty",
    "agetty",
    "vi",
    "nano",
    "python3",
    "perl",
    // package managers
    "apt",
    "apt-get",
    "dpkg",
    "rpm",
    "yum",
    "dnf",
    "apk",
    "pip",
];

#[test]
fn rootfs_has_no_shell_ssh_coreutils_or_package_manager() {
    let report = common::image();
    let listed = squashfs::list(&common::artifact(report, "rootfs.sqsh")).unwrap();
    assert!(listed.len() > 10, "suspiciously small listing: {listed:?}");
    let mut offenders = Vec::new();
    println!("executables in rootfs.sqsh (image {}):", report.version);
    for entry in &listed {
        let base = entry.path.rsplit('/').next().unwrap_or_default();
        if FORBIDDEN.contains(&base) {
            offenders.push(entry.path.clone());
        }
        if entry.perms.starts_with('-') && entry.perms.contains('x') {
            println!("  {:>10} bytes  {}", entry.size, entry.path);
        }
    }
    assert!(
        offenders.is_empty(),
        "forbidden programs in the image: {offenders:?}"
    );
}

#[test]
fn rootfs_regular_files_are_exactly_basalt_and_the_pinned_runtimes() {
    let report = common::image();
    let listed = squashfs::list(&common::artifact(report, "rootfs.sqsh")).unwrap();
    let files: BTreeSet<String> = listed
        .iter()
        .filter(|e| e.perms.starts_with('-'))
        .map(|e| e.path.trim_start_matches('/').to_string())
        .collect();
    let inputs =
        basalt_image::inputs::Inputs::load(&common::workspace().join("image/inputs.yaml")).unwrap();
    let mut expected: BTreeSet<String> = inputs
        .packages
        .iter()
        .flat_map(|p| p.files.iter().map(|f| f.to.clone()))
        .collect();
    expected.insert("usr/bin/basalt".into());
    expected.insert("etc/os-release".into());
    assert_eq!(files, expected);
    let symlinks: Vec<&str> = listed
        .iter()
        .filter(|e| e.perms.starts_with('l'))
        .map(|e| e.path.as_str())
        .collect();
    assert_eq!(
        symlinks.len(),
        1,
        "only the /lib64 loader link: {symlinks:?}"
    );
    assert!(symlinks[0].ends_with("lib64/ld-linux-x86-64.so.2"));
    for entry in &listed {
        assert!(
            entry.perms.starts_with('-')
                || entry.perms.starts_with('d')
                || entry.perms.starts_with('l'),
            "unexpected entry type {}: {}",
            entry.perms,
            entry.path
        );
    }
}

/// (path, mode, data) of each entry of a newc archive.
fn read_newc(bytes: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0usize;
    let field = |b: &[u8], i: usize| {
        u32::from_str_radix(std::str::from_utf8(&b[6 + i * 8..14 + i * 8]).unwrap(), 16).unwrap()
    };
    loop {
        let header = &bytes[at..at + 110];
        assert_eq!(&header[..6], b"070701", "bad magic at {at}");
        let (mode, size, namesize) = (
            field(header, 1),
            field(header, 6) as usize,
            field(header, 11) as usize,
        );
        let name = String::from_utf8(bytes[at + 110..at + 110 + namesize - 1].to_vec()).unwrap();
        at = (at + 110 + namesize).div_ceil(4) * 4;
        if name == "TRAILER!!!" {
            return out;
        }
        out.push((name, mode, bytes[at..at + size].to_vec()));
        at = (at + size).div_ceil(4) * 4;
    }
}

#[test]
fn initramfs_holds_init_modules_rootfs_and_a_manifest_that_verifies() {
    let report = common::image();
    let compressed = std::fs::read(common::artifact(report, "initramfs.img")).unwrap();
    let mut child = std::process::Command::new("zstd")
        .args(["-dc", "-q"])
        .arg(common::artifact(report, "initramfs.img"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("zstd is needed: apt-get install -y zstd");
    let mut raw = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut raw).unwrap();
    assert!(child.wait().unwrap().success());
    println!(
        "initramfs: {} bytes compressed, {} raw",
        compressed.len(),
        raw.len()
    );
    let entries = read_newc(&raw);
    let get = |path: &str| {
        entries
            .iter()
            .find(|e| e.0 == path)
            .unwrap_or_else(|| panic!("{path} missing from initramfs"))
    };
    let init = get("init");
    assert_eq!(init.1 & 0o777, 0o755);
    assert_eq!(&init.2[..4], b"\x7fELF");
    assert_eq!(get("dev/console").1 & 0o170000, 0o020000);
    let order_path = entries
        .iter()
        .find(|e| e.0.ends_with("/modules.order"))
        .unwrap();
    let dir = order_path.0.trim_end_matches("modules.order").to_string();
    let order = String::from_utf8(order_path.2.clone()).unwrap();
    let names: Vec<&str> = order
        .lines()
        .map(|l| l.rsplit('/').next().unwrap().trim_end_matches(".ko"))
        .collect();
    println!("modules.order: {names:?}");
    for line in order.lines() {
        get(&format!("{dir}{line}"));
    }
    let pos = |n: &str| {
        names
            .iter()
            .position(|m| *m == n)
            .unwrap_or_else(|| panic!("{n} not in modules.order"))
    };
    assert!(pos("virtio_ring") < pos("virtio") && pos("virtio") < pos("virtio_pci"));
    assert!(pos("virtio_blk") < pos("squashfs") || pos("loop") < pos("squashfs"));
    assert!(pos("failover") < pos("net_failover") && pos("net_failover") < pos("virtio_net"));
    pos("overlay");

    let rootfs = std::fs::read(common::artifact(report, "rootfs.sqsh")).unwrap();
    assert!(
        get("rootfs.sqsh").2 == rootfs,
        "initramfs /rootfs.sqsh differs from rootfs.sqsh"
    );
    let json = std::fs::read(common::artifact(report, "manifest.json")).unwrap();
    let sig = std::fs::read(common::artifact(report, "manifest.sig")).unwrap();
    assert_eq!(get("manifest.json").2, json);
    assert_eq!(get("manifest.sig").2, sig);
    let key = basalt_image::manifest::parse_public_key(&report.public_key).unwrap();
    let manifest = basalt_image::manifest::verify(&json, &sig, &key).unwrap();
    assert_eq!(manifest.version, report.version);
    assert!(manifest.version.starts_with(basalt_image::BASALT_VERSION));
    basalt_image::manifest::verify_rootfs(&common::artifact(report, "rootfs.sqsh"), &manifest)
        .unwrap();
    let vmlinuz = std::fs::read(common::artifact(report, "vmlinuz")).unwrap();
    assert_eq!(
        manifest.artifacts["vmlinuz"],
        basalt_image::sha256_hex(&vmlinuz)
    );
    // The init binary is static: an ELF64 with no PT_INTERP program header.
    assert!(
        !has_interp(&init.2),
        "/init must be statically linked (it has a PT_INTERP header)"
    );
}

fn has_interp(elf: &[u8]) -> bool {
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap()) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (entsize, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| {
        let at = phoff + i * entsize;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) == 3
    })
}
