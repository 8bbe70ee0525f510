//! Two builds of the same inputs give byte-identical `rootfs.sqsh` and `initramfs.img`.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Instant;

#[test]
fn two_builds_are_byte_identical() {
    let started = Instant::now();
    let a = common::build_into("repro-a");
    let first = started.elapsed();
    let b = common::build_into("repro-b");
    println!(
        "build a: {:.1}s, build b: {:.1}s",
        first.as_secs_f64(),
        (started.elapsed() - first).as_secs_f64()
    );
    assert_eq!(a.version, b.version);
    for name in [
        "rootfs.sqsh",
        "initramfs.img",
        "vmlinuz",
        "cmdline",
        "manifest.json",
        "manifest.sig",
    ] {
        let (x, y) = (common::artifact(&a, name), common::artifact(&b, name));
        let (hx, sx) = basalt_image::sha256_file(&x).unwrap();
        let (hy, sy) = basalt_image::sha256_file(&y).unwrap();
        println!("{name:<14} {sx:>10} bytes  {hx}");
        assert_eq!((hx, sx), (hy, sy), "{name} differs between two builds");
    }
}
