//! `basaltctl cluster create|show|destroy` with the container provisioner: real network
//! namespaces, a real bridge, the real image from `target/image` (root needed).
//!
//! etcd bootstrap is not exercised here yet (`--skip-bootstrap`): these tests check the
//! provisioner (create → apid over mTLS from the host → show → destroy leaves nothing) and
//! the refusals that must touch nothing.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

fn image_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/image");
    assert!(
        dir.join("rootfs.sqsh").is_file(),
        "{} has no rootfs.sqsh: run `cargo xtask image` first",
        dir.display()
    );
    dir
}

fn ctl(state: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_basaltctl"))
        .args(args)
        .arg("--state")
        .arg(state)
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

#[test]
fn create_show_reach_apid_and_destroy_leaves_nothing() {
    let image = image_dir();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("clusters");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let name = "bt-one";
    let created = ctl(
        &state,
        &home,
        &[
            "cluster",
            "create",
            "--name",
            name,
            "--controlplanes",
            "1",
            "--workers",
            "0",
            "--cidr",
            "10.231.7.0/24",
            "--skip-bootstrap",
            "--wait-timeout",
            "90s",
            "--image",
            image.to_str().unwrap(),
        ],
    );
    let dir = state.join(name);
    let destroy = || ctl(&state, &home, &["cluster", "destroy", "--name", name]);
    if !created.status.success() {
        let logs = sh(&format!("tail -n 40 {}/nodes/*/console.log", dir.display()));
        let d = destroy();
        panic!(
            "create failed:\n{}\nconsole:\n{logs}\ndestroy:\n{}",
            text(&created),
            text(&d)
        );
    }

    // apid over mTLS from the host, through the merged context.
    let config = home.join(".basalt/config");
    let version = Command::new(env!("CARGO_BIN_EXE_basaltctl"))
        .args([
            "--basaltconfig",
            config.to_str().unwrap(),
            "--context",
            name,
        ])
        .args(["-e", "10.231.7.2", "version"])
        .output()
        .unwrap();
    assert!(version.status.success(), "{}", text(&version));
    assert!(String::from_utf8_lossy(&version.stdout).contains("Server"));

    let shown = ctl(
        &state,
        &home,
        &["cluster", "show", "--name", name, "-o", "json"],
    );
    assert!(shown.status.success(), "{}", text(&shown));
    let v: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(v["nodes"][0]["name"], "bt-one-controlplane-1");
    assert_eq!(v["nodes"][0]["ip"], "10.231.7.2");
    assert_eq!(v["nodes"][0]["state"], "running");
    let table = ctl(&state, &home, &["cluster", "show", "--name", name]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("controlplane"));

    let t = Instant::now();
    let d = destroy();
    let took = t.elapsed();
    assert!(d.status.success(), "{}", text(&d));
    eprintln!("cluster destroy (1 node) took {took:?}");
    let pid = v["nodes"][0]["pid"].as_i64().unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists() || {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.contains(") Z")
        },
        "launcher {pid} still running"
    );
    assert!(!dir.exists(), "{} left", dir.display());
    assert!(!sh("ip netns list").contains("basalt-bt-one"), "netns left");
    assert!(!sh("ip -o link").contains("bslt-bt-one"), "bridge left");
    assert!(
        !sh("cat /proc/mounts").contains(dir.to_str().unwrap()),
        "mount left"
    );
    // idempotent
    let again = destroy();
    assert!(again.status.success(), "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to remove"));
}

#[test]
fn create_refuses_existing_name_and_used_cidr_without_touching_anything() {
    let image = image_dir();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("clusters");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();

    // An existing cluster directory.
    std::fs::create_dir_all(state.join("bt-exists")).unwrap();
    let o = ctl(
        &state,
        &home,
        &[
            "cluster",
            "create",
            "--name",
            "bt-exists",
            "--cidr",
            "10.231.8.0/24",
            "--image",
            image.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("already exists") && err.contains("cluster destroy"),
        "{err}"
    );

    // A CIDR in use: a dummy link holding an address in it.
    let dummy = "bt-dummy0";
    sh(&format!(
        "ip link add {dummy} type bridge && ip addr add 10.231.9.1/24 dev {dummy}"
    ));
    let o = ctl(
        &state,
        &home,
        &[
            "cluster",
            "create",
            "--name",
            "bt-cidr",
            "--cidr",
            "10.231.9.0/24",
            "--image",
            image.to_str().unwrap(),
        ],
    );
    sh(&format!("ip link del {dummy}"));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("overlaps") && err.contains("10.231.9"),
        "{err}"
    );

    assert!(!state.join("bt-cidr").exists());
    assert!(!sh("ip -o link").contains("bslt-bt-"), "a bridge was made");
    assert!(
        !sh("ip netns list").contains("basalt-bt-"),
        "a namespace was made"
    );
    assert!(!home.join(".basalt/config").exists());
}
