//! Boots the image `cargo xtask image` built (`target/image/`: vmlinuz, initramfs.img,
//! cmdline) under QEMU with a 1 GiB raw virtio disk: a good image reaches machined in metal
//! mode; a rootfs with one flipped byte (at several positions), or a manifest signed with
//! another key, makes `/init` refuse on the console and reboot, which ends QEMU.
//!
//! Tampering uses the kernel's support for concatenated initramfs archives: a second,
//! uncompressed cpio appended to `initramfs.img` replaces `/rootfs.sqsh` (or `/manifest.sig`)
//! while everything else stays exactly as built.
//!
//! Next step (not here yet): the full scenario of issue 5 — deliver a generated control-plane
//! config (maintenance mode through the forwarded apid port, `basaltctl apply-config --insecure
//! -e 127.0.0.1:PORT`), then `basaltctl version` over mTLS showing node and image version, then
//! `basaltctl shutdown` and `Vm::wait_exit` expecting status 0. It needs metal-mode networking
//! (DHCP on the user-mode NIC, 10.0.2.15) and apid in metal mode.
//!
//! Needs: qemu-system-x86 (installed by `cargo xtask test`) and the image: run
//! `cargo xtask image` first (the test fails, naming that command, when it is missing).
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use basalt_image::cpio::Kind;
use basalt_provision::qemu::{create_raw_disk, free_local_port, Accel, Qemu, Vm};
use support::{entry, newc};

const LINE_TIMEOUT: Duration = Duration::from_secs(240);
const EXIT_TIMEOUT: Duration = Duration::from_secs(120);

/// One VM at a time: TCG VMs share two host cores, and the timings are printed.
static ONE_VM: Mutex<()> = Mutex::new(());

fn image_dir() -> PathBuf {
    let dir = support::workspace_root().join("target/image");
    for name in [
        "vmlinuz",
        "initramfs.img",
        "cmdline",
        "rootfs.sqsh",
        "manifest.json",
    ] {
        assert!(
            dir.join(name).is_file(),
            "{} is missing: build the image first with `cargo xtask image`",
            dir.join(name).display()
        );
    }
    dir
}

/// Starts the image's kernel with `initramfs` and a fresh 1 GiB disk.
fn boot(name: &str, initramfs: &Path) -> Vm {
    support::require("qemu-system-x86_64", "qemu-system-x86");
    let image = image_dir();
    let dir = support::scratch(name);
    let disk = dir.join("disk.raw");
    create_raw_disk(&disk, 1 << 30).unwrap();
    let cmdline = std::fs::read_to_string(image.join("cmdline")).unwrap();
    Qemu::builder()
        .kernel(image.join("vmlinuz"))
        .initrd(initramfs)
        .append(cmdline.trim())
        .memory_mib(768)
        .disk(&disk)
        .serial_log(dir.join("serial.log"))
        .user_net_forward(free_local_port().unwrap(), 50000)
        .accel(Accel::from_env().unwrap())
        .spawn()
        .unwrap()
}

/// A copy of the built initramfs with `name` replaced by `data` (an appended cpio member).
fn initramfs_replacing(scratch: &str, name: &'static str, data: Vec<u8>) -> PathBuf {
    let mut bytes = std::fs::read(image_dir().join("initramfs.img")).unwrap();
    // The kernel looks for the next archive at a 4-byte boundary, skipping zero padding.
    while bytes.len() % 512 != 0 {
        bytes.push(0);
    }
    bytes.extend_from_slice(&newc(vec![entry(name, 0o644, Kind::Bytes(data))]));
    let dir = support::workspace_root().join("target/qemu-test");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{scratch}-initramfs.img"));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Boots `initramfs` and expects the verification refusal, then QEMU's clean exit.
fn expect_refusal(name: &str, initramfs: &Path) {
    let _one = ONE_VM.lock().unwrap_or_else(|p| p.into_inner());
    let mut vm = boot(name, initramfs);
    let refusal = vm
        .wait_for_line(
            |l| l.contains("IMAGE VERIFICATION FAILED") || l.contains("BOOT FAILED"),
            LINE_TIMEOUT,
        )
        .unwrap();
    let status = vm.wait_exit(EXIT_TIMEOUT).unwrap();
    let console = vm.serial_output().unwrap();
    println!(
        "{name}: refusal after {:.2} s: {:?}; QEMU exit {status} after {:.2} s",
        refusal.after.as_secs_f64(),
        refusal.text,
        vm.started().elapsed().as_secs_f64()
    );
    assert!(
        refusal.text.contains("IMAGE VERIFICATION FAILED"),
        "expected a verification refusal, got {:?}:\n{console}",
        refusal.text
    );
    assert!(status.success(), "QEMU exited with {status}:\n{console}");
    assert!(
        !console.contains("[machined]"),
        "machined started anyway:\n{console}"
    );
}

#[test]
fn signed_image_boots_into_machined_in_metal_mode() {
    let _one = ONE_VM.lock().unwrap_or_else(|p| p.into_inner());
    let mut vm = boot("image-good", &image_dir().join("initramfs.img"));
    let init = vm
        .wait_for_line(|l| l.contains("basalt:"), LINE_TIMEOUT)
        .unwrap();
    let machined = vm
        .wait_for_line(
            |l| l.contains("[machined]") && l.contains("platform metal"),
            LINE_TIMEOUT,
        )
        .unwrap();
    let console = vm.serial_output().unwrap();
    println!(
        "good image ({}): QEMU start -> first /init line {:.2} s ({:?}) -> machined (metal) {:.2} s",
        vm.accel(),
        init.after.as_secs_f64(),
        init.text,
        machined.after.as_secs_f64()
    );
    assert!(!console.contains("VERIFICATION FAILED"), "{console}");
    vm.kill().unwrap();
}

#[test]
fn rootfs_with_one_flipped_byte_is_refused_at_every_position() {
    let rootfs = std::fs::read(image_dir().join("rootfs.sqsh")).unwrap();
    let positions = [0, rootfs.len() / 2, rootfs.len() - 1];
    for (i, position) in positions.into_iter().enumerate() {
        let mut tampered = rootfs.clone();
        tampered[position] ^= 0x01;
        let name = format!("image-flip-{i}");
        let initramfs = initramfs_replacing(&name, "rootfs.sqsh", tampered);
        println!("flipping byte {position} of rootfs.sqsh");
        expect_refusal(&name, &initramfs);
    }
}

#[test]
fn manifest_signed_with_another_key_is_refused() {
    let manifest = std::fs::read(image_dir().join("manifest.json")).unwrap();
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let other = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let signature = other.sign(&manifest).as_ref().to_vec();
    let initramfs = initramfs_replacing("image-other-key", "manifest.sig", signature);
    expect_refusal("image-other-key", &initramfs);
}
