//! apply-config and client configs over the network, as root: one networked control-plane
//! container node, the real apid and the real `basaltctl` (admin client config from
//! `gen config`, `-e IP -n IP`):
//!
//! - `no-reboot` applies a hostname change live and persists it; `--dry-run` prints a diff
//!   and changes nothing; an invalid config is refused with its field path and changes
//!   nothing; `try` is live, not persisted, and rolled back after its timeout; `auto` with a
//!   change that needs a reboot reboots in place and the node comes back with it; `staged`
//!   is persisted aside and takes effect at the next `basaltctl reboot`.
//! - `config new --roles os:reader` writes a client config that may read (`version`) but
//!   not reboot nor read the machine config (sensitive).

#![allow(clippy::unwrap_used)]

mod cluster_support;

use std::path::Path;
use std::process::Command;

use cluster_support::edit::{until_ok, with_address, with_env, with_hostname};
use cluster_support::launch::hostname_of;
use cluster_support::{config, Cluster};

/// `basaltctl --basaltconfig <file> -e IP -n IP args…` against the cluster's only node.
fn ctl_with(basaltconfig: &Path, ip: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(config::basaltctl())
        .arg("--basaltconfig")
        .arg(basaltconfig)
        .args(["-e", ip, "-n", ip])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The admin view of a one-node cluster.
struct Admin<'a> {
    cluster: &'a Cluster,
    ip: String,
}

impl<'a> Admin<'a> {
    /// Waits until the node's apid answers `version`.
    fn new(cluster: &'a Cluster) -> Self {
        let admin = Admin {
            cluster,
            ip: cluster.nodes[0].ip.to_string(),
        };
        until_ok("apid answers version", || {
            admin.ctl(&["version", "--short"])
        });
        admin
    }

    fn ctl(&self, args: &[&str]) -> (i32, String, String) {
        ctl_with(&self.cluster.basaltconfig(), &self.ip, args)
    }

    /// `apply-config -f <text written to a file> extra…`.
    fn apply(&self, text: &str, extra: &[&str]) -> (i32, String, String) {
        let file = self.cluster.secrets.path().join("apply.yaml");
        std::fs::write(&file, text).unwrap();
        let mut args = vec!["apply-config", "-f", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.ctl(&args)
    }

    /// `apply` that must succeed; returns stdout.
    fn apply_ok(&self, text: &str, extra: &[&str]) -> String {
        let (code, out, err) = self.apply(text, extra);
        assert_eq!(code, 0, "apply-config {extra:?} failed:\n{out}\n{err}");
        out
    }

    /// `get machineconfig` (retried while the node reboots).
    fn machineconfig(&self) -> String {
        until_ok("get machineconfig", || self.ctl(&["get", "machineconfig"]))
    }

    /// The persisted `STATE/<name>` of the node (None when absent).
    fn state_file(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.cluster.nodes[0].dirs.state().join(name)).ok()
    }
}

#[test]
fn apply_config_modes_over_the_network() {
    let cluster = Cluster::start(1, |_, _| Vec::new());
    let node = &cluster.nodes[0];
    let admin = Admin::new(&cluster);
    let original = admin.state_file("config.yaml").unwrap();

    // no-reboot: live and persisted
    let renamed = with_hostname(&original, "renamed-0");
    let out = admin.apply_ok(&renamed, &["-m", "no-reboot"]);
    assert!(out.contains("applied, mode no-reboot"), "{out}");
    assert!(out.contains(".machine.network.hostname"), "{out}");
    assert!(admin.machineconfig().contains("hostname: renamed-0"));
    assert_eq!(admin.state_file("config.yaml").unwrap(), renamed);
    assert_eq!(hostname_of(node.launched.machined), "renamed-0");

    // --dry-run: a diff, nothing changes
    let out = admin.apply_ok(&with_hostname(&renamed, "dry-0"), &["--dry-run"]);
    assert!(out.contains("dry run, mode no-reboot"), "{out}");
    let diff_line = |sign: char, text: &str| {
        out.lines()
            .map(str::trim_start)
            .any(|l| l.starts_with(sign) && l.contains(text))
    };
    assert!(diff_line('-', "hostname: renamed-0"), "{out}");
    assert!(diff_line('+', "hostname: dry-0"), "{out}");
    let current = admin.machineconfig();
    assert!(current.contains("hostname: renamed-0") && !current.contains("dry-0"));
    assert_eq!(admin.state_file("config.yaml").unwrap(), renamed);

    // invalid: refused with the field path, nothing changes
    let (code, out, err) = admin.apply(&with_address(&renamed, "10.0.0.300/24"), &[]);
    assert_ne!(code, 0, "an invalid config was accepted:\n{out}");
    assert!(
        err.contains(".machine.network.interfaces[0].addresses[0]") && err.contains("10.0.0.300"),
        "the refusal names the field:\n{err}"
    );
    assert!(admin.machineconfig().contains("hostname: renamed-0"));
    assert_eq!(admin.state_file("config.yaml").unwrap(), renamed);

    // try: live but not persisted; a later try replaces it, and rolls back after 3 s
    let out = admin.apply_ok(
        &with_hostname(&renamed, "try-0"),
        &["-m", "try", "--timeout", "10m"],
    );
    assert!(out.contains("applied, mode try"), "{out}");
    assert!(admin.machineconfig().contains("hostname: try-0"));
    assert_eq!(admin.state_file("config.yaml").unwrap(), renamed);
    let out = admin.apply_ok(
        &with_hostname(&renamed, "try-1"),
        &["-m", "try", "--timeout", "3s"],
    );
    assert!(out.contains("confirms the pending try"), "{out}");
    node.launched
        .wait_for_line("try mode: not confirmed in time; rolled back", 1);
    let current = admin.machineconfig();
    assert!(
        current.contains("hostname: renamed-0") && !current.contains("try-"),
        "{current}"
    );
    assert_eq!(hostname_of(node.launched.machined), "renamed-0");

    // auto with a change that needs a reboot: reboots in place, comes back with it
    let env = with_env(&renamed, "http_proxy", "http://10.0.0.1:3128");
    let out = admin.apply_ok(&env, &["-m", "auto"]);
    assert!(out.contains("applied, mode reboot"), "{out}");
    assert!(out.contains(".machine.env"), "{out}");
    node.launched.wait_for_line("sequence reboot: done", 1);
    assert!(admin
        .machineconfig()
        .contains("http_proxy: http://10.0.0.1:3128"));
    assert_eq!(admin.state_file("config.yaml").unwrap(), env);

    // staged: persisted aside, nothing changes until the next reboot
    let staged = with_hostname(&env, "staged-0");
    let out = admin.apply_ok(&staged, &["-m", "staged"]);
    assert!(out.contains("applied, mode staged"), "{out}");
    assert_eq!(admin.state_file("config.staged.yaml").unwrap(), staged);
    assert!(admin.machineconfig().contains("hostname: renamed-0"));
    let (code, out, err) = admin.ctl(&["reboot"]);
    assert_eq!(code, 0, "reboot failed:\n{out}\n{err}");
    node.launched.wait_for_line("sequence reboot: done", 2);
    assert!(admin.machineconfig().contains("hostname: staged-0"));
    assert_eq!(admin.state_file("config.yaml").unwrap(), staged);
    assert_eq!(admin.state_file("config.staged.yaml"), None);
    assert_eq!(hostname_of(node.launched.machined), "staged-0");
}

#[test]
fn config_new_reader_may_read_but_not_reboot() {
    let cluster = Cluster::start(1, |_, _| Vec::new());
    let admin = Admin::new(&cluster);
    let reader = cluster.secrets.path().join("reader");
    let (code, out, err) = admin.ctl(&[
        "config",
        "new",
        reader.to_str().unwrap(),
        "--roles",
        "os:reader",
        "--crt-ttl",
        "1h",
    ]);
    assert_eq!(code, 0, "config new failed:\n{out}\n{err}");
    assert!(out.contains("roles os:reader"), "{out}");
    assert!(reader.is_file());

    let (code, out, err) = ctl_with(&reader, &admin.ip, &["version", "--short"]);
    assert_eq!(code, 0, "the reader cannot read the version:\n{out}\n{err}");
    assert!(out.contains("Server:"), "{out}");

    let (code, out, err) = ctl_with(&reader, &admin.ip, &["reboot"]);
    assert_ne!(code, 0, "the reader rebooted the node:\n{out}");
    assert!(
        err.contains("permission denied") && err.contains("os:reader"),
        "the refusal names the role:\n{err}"
    );

    let (code, out, err) = ctl_with(&reader, &admin.ip, &["get", "machineconfig"]);
    assert_ne!(code, 0, "the reader read the machine config:\n{out}");
    assert!(!out.contains("machine:"), "{out}");
    assert!(
        err.to_lowercase().contains("admin"),
        "the refusal says admin is needed:\n{err}"
    );
}
