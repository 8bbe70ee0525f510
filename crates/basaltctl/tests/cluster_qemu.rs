//! `basaltctl cluster create --provisioner qemu`: three control-plane VMs booting the real
//! image from `target/image` in metal mode (TCG here), one tap each on a real bridge, their
//! configs on raw config disks; `cluster create` bootstraps etcd and waits for three voters;
//! `etcd members` agrees; `health` passes; `cluster show` lists the VMs; `cluster destroy` shuts them down
//! and leaves no process, tap, bridge or file (root needed).
//!
//! Prints the figures of the bench table: time from the VMs' start to a healthy 3-voter
//! etcd, QEMU's resident memory per node, and the time `cluster destroy` took.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

fn image_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/image");
    for file in ["vmlinuz", "initramfs.img", "cmdline"] {
        assert!(
            dir.join(file).is_file(),
            "{} has no {file}: run `cargo xtask image` first",
            dir.display()
        );
    }
    dir
}

fn require_qemu() {
    let found = Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "qemu-system-x86_64 is missing: install the package qemu-system-x86 (`cargo xtask test` does)"
    );
}

fn ctl(state: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_basaltctl"))
        .args(args)
        .env("BASALT_CLUSTERS_DIR", state)
        .env("HOME", home)
        .env_remove("BASALTCONFIG")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn sh(cmd: &str) -> String {
    let o = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The elapsed seconds of the first `[  12.3s] …needle…` progress line.
fn step_time(stderr: &str, needle: &str) -> f64 {
    let line = stderr
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no progress line with {needle:?} in:\n{stderr}"));
    let inner = line.trim_start_matches('[').split(']').next().unwrap();
    inner.trim().trim_end_matches('s').parse().unwrap()
}

fn rss_kib(pid: i64) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn three_vm_cluster_forms_etcd_and_destroy_leaves_nothing() {
    let image = image_dir();
    require_qemu();
    let accel = std::env::var("BASALT_QEMU_ACCEL").unwrap_or_else(|_| "auto".into());
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("clusters");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let name = "bq-three";
    let dir = state.join(name);
    let created = ctl(
        &state,
        &home,
        &[
            "cluster",
            "create",
            "--provisioner",
            "qemu",
            "--accel",
            &accel,
            "--name",
            name,
            "--controlplanes",
            "3",
            "--workers",
            "0",
            "--cidr",
            "10.231.61.0/24",
            "--wait-timeout",
            "6m",
            "--image",
            image.to_str().unwrap(),
        ],
    );
    let destroy = || ctl(&state, &home, &["cluster", "destroy", "--name", name]);
    if !created.status.success() {
        let logs = sh(&format!(
            "for f in {}/nodes/*/console.log; do echo \"== $f\"; tr -d '\\r' < $f | grep -v '^\\[' | tail -n 25; done",
            dir.display()
        ));
        let d = destroy();
        panic!(
            "create failed:\n{}\nconsoles:\n{logs}\ndestroy:\n{}",
            text(&created),
            text(&d)
        );
    }
    let progress = String::from_utf8_lossy(&created.stderr).into_owned();
    eprintln!("{progress}");
    let vms_started = step_time(&progress, " taps");
    let healthy = step_time(&progress, "etcd has 3 voting members");
    eprintln!(
        "BENCH qemu: healthy 3-voter etcd {:.1} s after the VMs were started ({:.1} s after `cluster create` began)",
        healthy - vms_started,
        healthy
    );

    // etcd, asked through the merged context of one node: three voters, one per VM.
    let config = home.join(".basalt/config");
    let members = Command::new(env!("CARGO_BIN_EXE_basaltctl"))
        .args([
            "--basaltconfig",
            config.to_str().unwrap(),
            "--context",
            name,
        ])
        .args(["-n", "10.231.61.2", "etcd", "members"])
        .output()
        .unwrap();
    assert!(members.status.success(), "{}", text(&members));
    let listing = String::from_utf8_lossy(&members.stdout);
    for n in 1..=3 {
        let host = format!("{name}-controlplane-{n}");
        let row = listing
            .lines()
            .find(|l| l.split_whitespace().nth(2) == Some(host.as_str()))
            .unwrap_or_else(|| panic!("{host} is not an etcd member:\n{listing}"));
        assert!(
            row.trim_end().ends_with("false"),
            "{host} is a learner:\n{listing}"
        );
    }

    // health, client side, over every VM of the context
    let health = Command::new(env!("CARGO_BIN_EXE_basaltctl"))
        .args([
            "--basaltconfig",
            config.to_str().unwrap(),
            "--context",
            name,
            "health",
            "--wait-timeout",
            "3m",
        ])
        .output()
        .unwrap();
    assert!(health.status.success(), "{}", text(&health));
    eprintln!("{}", String::from_utf8_lossy(&health.stdout));

    let shown = ctl(
        &state,
        &home,
        &["cluster", "show", "--name", name, "-o", "json"],
    );
    assert!(shown.status.success(), "{}", text(&shown));
    let v: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert!(
        v["provisioner"].as_str().unwrap().starts_with("qemu"),
        "{v}"
    );
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{v}");
    let pids: Vec<i64> = nodes.iter().map(|n| n["pid"].as_i64().unwrap()).collect();
    for n in nodes {
        assert_eq!(n["state"], "running", "{v}");
    }
    for (n, pid) in nodes.iter().zip(&pids) {
        eprintln!(
            "BENCH qemu: {} QEMU resident memory {} MiB",
            n["name"],
            rss_kib(*pid) / 1024
        );
    }
    let st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("state.json")).unwrap()).unwrap();
    let taps: Vec<String> = st["taps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    assert_eq!(taps.len(), 3);

    let t = Instant::now();
    let d = destroy();
    let took = t.elapsed();
    assert!(d.status.success(), "{}", text(&d));
    eprintln!("{}", text(&d));
    eprintln!("BENCH qemu: cluster destroy (3 VMs) took {took:?}");
    assert!(
        String::from_utf8_lossy(&d.stderr).contains("shutdown accepted by 3 of 3"),
        "{}",
        text(&d)
    );
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(
            stat.is_empty() || stat.contains(") Z") || !stat.contains("qemu"),
            "QEMU {pid} still running"
        );
    }
    assert!(!dir.exists(), "{} left", dir.display());
    let links = sh("ip -o link");
    assert!(!links.contains("bslt-bq-three"), "bridge left:\n{links}");
    for tap in &taps {
        assert!(!links.contains(tap.as_str()), "tap {tap} left:\n{links}");
    }
    let again = destroy();
    assert!(again.status.success(), "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to remove"));
}

#[test]
fn qemu_create_refuses_missing_boot_files_without_touching_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("clusters");
    let empty = tmp.path().join("no-image");
    std::fs::create_dir_all(&empty).unwrap();
    let o = ctl(
        &state,
        tmp.path(),
        &[
            "cluster",
            "create",
            "--provisioner",
            "qemu",
            "--name",
            "bq-noimg",
            "--cidr",
            "10.231.62.0/24",
            "--image",
            empty.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("vmlinuz") && err.contains("cargo xtask image"),
        "{err}"
    );
    assert!(!state.join("bq-noimg").exists());
    assert!(
        !sh("ip -o link").contains("bslt-bq-noimg"),
        "a bridge was made"
    );
}
