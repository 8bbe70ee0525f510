//! Cluster figures: the release `basaltctl cluster create` of 3 control-plane nodes until etcd
//! has 3 voting members (container provisioner, then QEMU/TCG), the memory of a container
//! node (every process in its pid namespace: machined, apid, trustd, etcd), and
//! `cluster destroy`. Needs root and the image in `target/image`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use super::proc_status::{memory, mib};
use super::Row;

const CONTAINER_CREATE: &str = "cluster create → 3 etcd voters (container, 3 control planes)";
const NODE_MEMORY: &str = "memory per control-plane node (container: RSS of every process)";
const CONTAINER_DESTROY: &str = "cluster destroy (container, 3 nodes)";
const QEMU_CREATE: &str = "cluster create → 3 etcd voters (qemu, 3 VMs)";
const QEMU_DESTROY: &str = "cluster destroy (qemu, 3 VMs)";

/// The cluster rows; failed rows (with the reason) when they cannot be measured.
pub fn rows(release: &Path) -> Vec<Row> {
    let basaltctl = release.join("basaltctl");
    let mut rows = Vec::new();
    match run_cluster(&basaltctl, "container", "10.233.41.0/24") {
        Ok(found) => rows.extend(found),
        Err(e) => {
            for name in [CONTAINER_CREATE, NODE_MEMORY, CONTAINER_DESTROY] {
                rows.push(Row::failed(name, &e));
            }
        }
    }
    match run_cluster(&basaltctl, "qemu", "10.233.42.0/24") {
        Ok(found) => rows.extend(found),
        Err(e) => {
            for name in [QEMU_CREATE, QEMU_DESTROY] {
                rows.push(Row::failed(name, &e));
            }
        }
    }
    rows
}

/// Creates, measures and destroys one 3-node cluster.
fn run_cluster(basaltctl: &Path, provisioner: &str, cidr: &str) -> Result<Vec<Row>> {
    if !crate::packages::is_root() {
        bail!("needs root (network namespaces, bridges); run `cargo xtask bench` as root");
    }
    let scratch = tempfile::tempdir()?;
    let state = scratch.path().join("clusters");
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home)?;
    let name = format!("bench-{provisioner}");
    let ctl = |args: &[&str]| {
        Command::new(basaltctl)
            .args(args)
            .arg("--state")
            .arg(&state)
            .env("HOME", &home)
            .env_remove("BASALTCONFIG")
            .output()
            .with_context(|| format!("cannot run {}", basaltctl.display()))
    };
    println!("xtask bench: cluster create --provisioner {provisioner} (3 control planes)");
    let image = crate::cmd::target_dir().join("image");
    let created = ctl(&[
        "cluster",
        "create",
        "--name",
        &name,
        "--provisioner",
        provisioner,
        "--controlplanes",
        "3",
        "--workers",
        "0",
        "--cidr",
        cidr,
        "--skip-context",
        "--image",
        image.to_str().unwrap_or_default(),
    ])?;
    let stdout = String::from_utf8_lossy(&created.stdout).into_owned();
    let result = if created.status.success() {
        measure(provisioner, &stdout, &state.join(&name))
    } else {
        Err(anyhow!(
            "cluster create failed: {}",
            String::from_utf8_lossy(&created.stderr).trim()
        ))
    };
    let destroy_started = Instant::now();
    let destroyed = ctl(&["cluster", "destroy", "--name", &name])?;
    let destroy_took = destroy_started.elapsed();
    let mut rows = result?;
    if !destroyed.status.success() {
        bail!(
            "cluster destroy failed: {}",
            String::from_utf8_lossy(&destroyed.stderr).trim()
        );
    }
    let (name, notes) = match provisioner {
        "qemu" => (QEMU_DESTROY, "shutdown over the API, then QEMU ends"),
        _ => (
            CONTAINER_DESTROY,
            "SIGTERM → machined shutdown, links and dirs removed",
        ),
    };
    rows.push(Row {
        name: name.to_string(),
        value: Some(destroy_took.as_secs_f64()),
        unit: "s".to_string(),
        notes: notes.to_string(),
    });
    Ok(rows)
}

fn measure(provisioner: &str, stdout: &str, dir: &Path) -> Result<Vec<Row>> {
    let voters = up_after_seconds(stdout)
        .with_context(|| format!("no `cluster … is up after Ns` line in:\n{stdout}"))?;
    let mut rows = vec![Row {
        name: if provisioner == "qemu" {
            QEMU_CREATE
        } else {
            CONTAINER_CREATE
        }
        .to_string(),
        value: Some(voters),
        unit: "s".to_string(),
        notes:
            "from `cluster create` start (configs, nodes, bootstrap, learners joined and promoted)"
                .to_string(),
    }];
    if provisioner == "container" {
        std::thread::sleep(Duration::from_secs(2));
        let mut per_node = Vec::new();
        for pid in machined_pids(dir)? {
            per_node.push(namespace_rss_kib(pid)?);
        }
        let max = per_node.iter().copied().max().unwrap_or(0);
        let shown: Vec<String> = per_node.iter().map(|k| format!("{:.1}", mib(*k))).collect();
        rows.push(Row {
            name: NODE_MEMORY.to_string(),
            value: Some(mib(max)),
            unit: "MiB".to_string(),
            notes: format!("largest of the 3 nodes (each: {} MiB)", shown.join(", ")),
        });
    }
    Ok(rows)
}

/// `cluster demo is up after 12.3s` (printed once every control plane is an etcd voter)
/// → 12.3.
fn up_after_seconds(stdout: &str) -> Option<f64> {
    let line = stdout.lines().find(|l| l.contains(" is up after "))?;
    let (_, after) = line.rsplit_once(" is up after ")?;
    after.trim().strip_suffix('s')?.trim().parse().ok()
}

/// machined's host pid of every node, from the cluster's `state.json`.
fn machined_pids(dir: &Path) -> Result<Vec<i32>> {
    let state = basalt_provision::container::ClusterState::load(dir)?;
    let pids: Vec<i32> = state.nodes.iter().filter_map(|n| n.machined_pid).collect();
    if pids.is_empty() {
        bail!("no machined pids in {}", dir.display());
    }
    Ok(pids)
}

/// The summed RSS of every process in the pid namespace whose PID 1 is `machined`.
fn namespace_rss_kib(machined: i32) -> Result<u64> {
    let ns = std::fs::read_link(format!("/proc/{machined}/ns/pid"))
        .with_context(|| format!("machined pid {machined} is gone"))?;
    let mut total = 0;
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if std::fs::read_link(format!("/proc/{pid}/ns/pid"))
            .ok()
            .as_ref()
            == Some(&ns)
        {
            total += memory(pid).map(|m| m.rss_kib).unwrap_or(0);
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voters_time_is_read_from_the_progress_line() {
        let out = "\ncluster bench is up after 20.3s\n  directory: /x\n";
        assert_eq!(up_after_seconds(out), Some(20.3));
        assert_eq!(up_after_seconds("nothing"), None);
    }
}
