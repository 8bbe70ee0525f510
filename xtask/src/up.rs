//! `cargo xtask up`: a local Basalt cluster from a clean machine.
//!
//! 1. install the system packages the project needs;
//! 2. build `basaltctl` (release);
//! 3. build the signed image (`cargo xtask image`; its inputs are cached, so a current
//!    image costs only the check);
//! 4. `basaltctl cluster create` (3 control-plane nodes + 1 worker, container provisioner:
//!    bootstrap and every etcd voter awaited) unless the cluster already exists with every
//!    node running;
//! 5. `basaltctl health` (etcd healthy, members = the control planes, apid on every node,
//!    every node booted), then print the next commands to try.

use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{cmd, image, packages};

const CLUSTER: &str = "basalt-demo";

/// Runs the steps and prints the next commands.
pub fn run() -> Result<()> {
    println!("xtask up: 1/5 system packages");
    packages::ensure(packages::FOR_TESTS)?;

    println!("xtask up: 2/5 building basaltctl (release)");
    cmd::run(cmd::cargo().args(["build", "--release", "-p", "basaltctl"]))?;
    let basaltctl = cmd::target_dir().join("release").join("basaltctl");

    println!("xtask up: 3/5 the signed image (target/image)");
    image::run(&image::Args {
        out: None,
        signing_key: None,
    })?;

    println!("xtask up: 4/5 cluster {CLUSTER} (3 control-plane nodes + 1 worker)");
    if healthy(&basaltctl)? {
        println!("cluster {CLUSTER} already exists and every node runs: kept");
    } else {
        if exists(&basaltctl)? {
            bail!(
                "cluster {CLUSTER} exists but not every node runs; see `{} cluster show --name {CLUSTER}`, \
                 then `{} cluster destroy --name {CLUSTER}` and run `cargo xtask up` again",
                basaltctl.display(),
                basaltctl.display()
            );
        }
        cmd::run(Command::new(&basaltctl).args([
            "cluster",
            "create",
            "--name",
            CLUSTER,
            "--controlplanes",
            "3",
            "--workers",
            "1",
        ]))?;
    }

    println!("xtask up: 5/5 cluster health");
    let own_config = cluster_basaltconfig()?;
    cmd::run(
        Command::new(&basaltctl)
            .arg("--basaltconfig")
            .arg(&own_config)
            .args(["health", "--wait-timeout", "5m"]),
    )?;

    let ctl = basaltctl.display();
    println!(
        "\nNext commands to try:\n\
         \x20 {ctl} --context {CLUSTER} etcd members\n\
         \x20 {ctl} --context {CLUSTER} version\n\
         \x20 {ctl} cluster show --name {CLUSTER}\n\
         \x20 {ctl} cluster destroy --name {CLUSTER}"
    );
    Ok(())
}

/// The client config `cluster create` wrote for the cluster (its context lists every node).
fn cluster_basaltconfig() -> Result<std::path::PathBuf> {
    let clusters = match std::env::var_os("BASALT_CLUSTERS_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").context("HOME is not set")?;
            std::path::PathBuf::from(home).join(".basalt/clusters")
        }
    };
    Ok(clusters.join(CLUSTER).join("basaltconfig"))
}

fn show(basaltctl: &std::path::Path) -> Result<std::process::Output> {
    cmd::output(Command::new(basaltctl).args(["cluster", "show", "--name", CLUSTER, "-o", "json"]))
}

fn exists(basaltctl: &std::path::Path) -> Result<bool> {
    Ok(show(basaltctl).map(|o| o.status.success()).unwrap_or(false))
}

/// The cluster exists and every node's launcher runs.
fn healthy(basaltctl: &std::path::Path) -> Result<bool> {
    let Ok(out) = show(basaltctl) else {
        return Ok(false);
    };
    if !out.status.success() {
        return Ok(false);
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let nodes = v["nodes"].as_array().cloned().unwrap_or_default();
    Ok(!nodes.is_empty() && nodes.iter().all(|n| n["state"] == "running"))
}
