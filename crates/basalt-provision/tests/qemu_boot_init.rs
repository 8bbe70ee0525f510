//! Boots Debian's real kernel under QEMU with a tiny initramfs whose `/init` is the static
//! `basalt` binary, and checks that our PID 1 runs and, having no signed image to boot,
//! refuses clearly and ends the VM (the kernel → PID 1 → refusal path, under TCG here).
//!
//! Needs: qemu-system-x86 (installed by `cargo xtask test`), apt-get/dpkg-deb, network access
//! to Debian's archive for the kernel .deb (cached under target/qemu-test/kernel).
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use basalt_image::cpio::Kind;
use basalt_provision::qemu::{create_raw_disk, free_local_port, Accel, Qemu};
use support::{entry, newc};

/// Generous: TCG on a 2-core machine shared with parallel builds.
const LINE_TIMEOUT: Duration = Duration::from_secs(180);
const EXIT_TIMEOUT: Duration = Duration::from_secs(120);

fn is_basalt_line(line: &str) -> bool {
    line.contains("basalt:") || line.contains("[machined]")
}

#[test]
fn debian_kernel_runs_static_basalt_as_init_which_refuses_without_an_image() {
    support::require("qemu-system-x86_64", "qemu-system-x86");
    let kernel = support::debian_kernel();
    let basalt = support::static_basalt();
    let dir = support::scratch("boot-init");

    let initramfs = dir.join("initramfs.cpio");
    let entries = vec![
        entry("dev", 0o755, Kind::Dir),
        entry("dev/console", 0o600, Kind::CharDev(5, 1)),
        entry("proc", 0o755, Kind::Dir),
        entry("sys", 0o755, Kind::Dir),
        entry("run", 0o755, Kind::Dir),
        entry("tmp", 0o755, Kind::Dir),
        entry("init", 0o755, Kind::File(basalt.clone())),
    ];
    std::fs::write(&initramfs, newc(entries)).unwrap();
    let disk = dir.join("disk.raw");
    create_raw_disk(&disk, 64 << 20).unwrap();

    let mut vm = Qemu::builder()
        .kernel(&kernel)
        .initrd(&initramfs)
        .append("console=ttyS0 panic=-1")
        .memory_mib(512)
        .disk(&disk)
        .serial_log(dir.join("serial.log"))
        .user_net_forward(free_local_port().unwrap(), 50000)
        .accel(Accel::from_env().unwrap())
        .spawn()
        .unwrap();

    let first = vm.wait_for_line(is_basalt_line, LINE_TIMEOUT).unwrap();
    println!(
        "qemu ({}) start -> first basalt console line: {:.2} s ({:?})",
        vm.accel(),
        first.after.as_secs_f64(),
        first.text
    );

    let status = vm.wait_exit(EXIT_TIMEOUT).unwrap();
    let ended = vm.started().elapsed();
    let console = vm.serial_output().unwrap();
    println!(
        "qemu start -> QEMU exit after the refusal: {:.2} s",
        ended.as_secs_f64()
    );
    assert!(
        status.success(),
        "QEMU exited with {status}; console:\n{console}"
    );
    let refused =
        console.contains("basalt: BOOT FAILED") || console.contains("IMAGE VERIFICATION FAILED");
    assert!(refused, "no refusal line on the console:\n{console}");
    assert!(
        !console.contains("Attempted to kill init"),
        "/init exited instead of rebooting after the refusal:\n{console}"
    );
}
