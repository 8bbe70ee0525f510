//! Maintenance mode over the network, as root: a networked container node launched without
//! a config, its apid `--maintenance`, and the real `basaltctl`:
//!
//! - `--insecure` reaches it (`version` names the node); `--cert-fingerprint` with the
//!   fingerprint printed on the console works, a wrong one is refused;
//! - `apply-config --insecure -f cp.yaml` is accepted and the node boots; afterwards it
//!   serves mTLS only: `--insecure` without a client certificate fails, the admin
//!   `basaltconfig` from `gen config` works;
//! - with a pinned maintenance CA (`basalt launch --maintenance-ca FILE`) a client without a
//!   certificate, or with one from another CA, is refused; one whose context holds a
//!   certificate from the pinned CA may push the first config.

#![allow(clippy::unwrap_used)]

mod cluster_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cluster_support::edit::until_ok;
use cluster_support::{config, Cluster};

/// `basaltctl --basaltconfig <file> args…`: (exit code, stdout, stderr).
fn ctl(basaltconfig: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(config::basaltctl())
        .arg("--basaltconfig")
        .arg(basaltconfig)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A client config file with no context at all (so nothing is offered but `--insecure`).
fn no_config(cluster: &Cluster) -> PathBuf {
    cluster.secrets.path().join("no-basaltconfig")
}

/// Writes the node's control-plane config to `cp.yaml`; returns its path.
fn cp_yaml(cluster: &Cluster) -> String {
    let file = cluster.secrets.path().join("cp.yaml");
    std::fs::write(&file, cluster.maintenance_node_config()).unwrap();
    file.display().to_string()
}

/// Waits for the boot with the applied config and for apid in normal mode (admin mTLS).
fn wait_booted_with_mtls(cluster: &Cluster, ip: &str) {
    cluster.nodes[0]
        .launched
        .wait_for_line("boot sequence done", 1);
    let out = until_ok("admin version over mTLS", || {
        cluster.ctl(&["-e", ip, "-n", ip, "version", "--short"])
    });
    assert!(out.contains("node-0"), "{out}");
}

#[test]
fn maintenance_node_takes_its_first_config_then_serves_mtls_only() {
    let cluster = Cluster::start_maintenance(&[]);
    let node = &cluster.nodes[0];
    let ip = node.ip.to_string();
    let none = no_config(&cluster);

    let out = until_ok("insecure version in maintenance mode", || {
        ctl(&none, &["--insecure", "-n", &ip, "version"])
    });
    assert!(out.contains("Server:") && out.contains("node-0"), "{out}");

    // fingerprint pinning: the printed one works, another is refused
    let fingerprint = node.fingerprint();
    assert!(fingerprint.starts_with("sha256:"), "{fingerprint}");
    let (code, out, err) = ctl(
        &none,
        &[
            "--insecure",
            "--cert-fingerprint",
            &fingerprint,
            "-n",
            &ip,
            "version",
        ],
    );
    assert_eq!(
        code, 0,
        "the printed fingerprint was refused:\n{out}\n{err}"
    );
    let wrong = format!("sha256:{}", "0".repeat(64));
    let (code, out, err) = ctl(
        &none,
        &[
            "--insecure",
            "--cert-fingerprint",
            &wrong,
            "-n",
            &ip,
            "version",
        ],
    );
    assert_ne!(code, 0, "a wrong fingerprint was accepted:\n{out}");
    assert!(
        err.contains("fingerprint") && err.contains(&ip),
        "the refusal names the endpoint and the fingerprint:\n{err}"
    );

    // the first config
    let cp = cp_yaml(&cluster);
    let (code, out, err) = ctl(&none, &["apply-config", "--insecure", "-n", &ip, "-f", &cp]);
    assert_eq!(
        code, 0,
        "apply-config in maintenance mode failed:\n{out}\n{err}"
    );
    assert!(out.contains("boot continues"), "{out}");
    wait_booted_with_mtls(&cluster, &ip);
    assert_eq!(
        std::fs::read_to_string(node.dirs.state().join("config.yaml")).unwrap(),
        cluster.maintenance_node_config()
    );

    // mTLS only now
    let (code, out, err) = ctl(&none, &["--insecure", "-n", &ip, "version"]);
    assert_ne!(code, 0, "--insecure still works after maintenance:\n{out}");
    assert!(
        err.contains(&ip) && err.contains("certificate"),
        "the refusal explains the certificate problem:\n{err}"
    );
}

#[test]
fn a_pinned_maintenance_ca_admits_only_its_client_certificates() {
    let ca = basalt_pki::CertificateAuthority::generate(
        &basalt_pki::CaSubject::organization("maintenance"),
        basalt_pki::KeyAlgorithm::Ed25519,
        basalt_pki::CA_LIFETIME,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("maintenance-ca.crt");
    std::fs::write(&ca_file, ca.cert_pem()).unwrap();
    let cluster = Cluster::start_maintenance(&["--maintenance-ca", ca_file.to_str().unwrap()]);
    let node = &cluster.nodes[0];
    let ip = node.ip.to_string();
    let cp = cp_yaml(&cluster);
    let apply = |basaltconfig: &Path| {
        ctl(
            basaltconfig,
            &["apply-config", "--insecure", "-n", &ip, "-f", &cp],
        )
    };

    // no client certificate: refused at the TLS layer
    let (code, out, err) = apply(&no_config(&cluster));
    assert_ne!(code, 0, "accepted without a client certificate:\n{out}");
    assert!(
        err.contains(&ip) && err.contains("certificate"),
        "the refusal explains the certificate problem:\n{err}"
    );
    // a certificate from another CA (the cluster's admin): refused too
    let (code, out, err) = apply(&cluster.basaltconfig());
    assert_ne!(code, 0, "accepted a foreign client certificate:\n{out}");
    assert!(err.contains("certificate"), "{err}");
    assert!(!node.dirs.state().join("config.yaml").exists());

    // a context whose certificate comes from the pinned CA: accepted
    let issued =
        basalt_pki::issue_client_certificate(&ca, &["os:admin"], Duration::from_secs(3600))
            .unwrap();
    let files = cluster.secrets.path();
    let (crt, key) = (files.join("maint.crt"), files.join("maint.key"));
    std::fs::write(&crt, &issued.cert_pem).unwrap();
    std::fs::write(&key, &issued.key_pem).unwrap();
    let pinned = files.join("maint-basaltconfig");
    let (code, out, err) = ctl(
        &pinned,
        &[
            "config",
            "add",
            "maint",
            "--ca",
            ca_file.to_str().unwrap(),
            "--crt",
            crt.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "config add failed:\n{out}\n{err}");
    let (code, out, err) = ctl(&pinned, &["config", "context", "maint"]);
    assert_eq!(code, 0, "config context failed:\n{out}\n{err}");
    let (code, out, err) = apply(&pinned);
    assert_eq!(
        code, 0,
        "the pinned CA's certificate was refused:\n{out}\n{err}"
    );
    assert!(out.contains("boot continues"), "{out}");
    wait_booted_with_mtls(&cluster, &ip);
}
