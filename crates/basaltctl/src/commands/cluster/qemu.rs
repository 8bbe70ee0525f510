//! The `--provisioner qemu` parts of `cluster create|destroy|show`: start the VMs
//! (`basalt_provision::qemu_cluster`), and on destroy first ask every node to shut down over
//! the machine API, then kill what is left and remove taps, bridge and files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use basalt_api::machine::ShutdownRequest;
use basalt_provision::container::{ClusterPlan, DestroyReport};
use basalt_provision::qemu::Accel;
use basalt_provision::qemu_cluster::{self, QemuClusterState, QemuCreateRequest};

use super::progress::Steps;
use super::show::{ClusterView, NodeRow};
use super::wait::global_for;
use crate::client::{self, Client};

/// How long each `shutdown` call may take before the node is treated as unreachable.
const SHUTDOWN_CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long QEMU gets after SIGTERM before SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// Parses `--accel auto|tcg|kvm`.
pub fn parse_accel(text: &str) -> Result<Accel, String> {
    text.parse::<Accel>().map_err(|e| e.to_string())
}

/// Checks before anything is generated or made.
pub fn preflight(plan: &ClusterPlan, clusters_dir: &Path, image_dir: &Path) -> anyhow::Result<()> {
    qemu_cluster::preflight(plan, clusters_dir, image_dir)?;
    Ok(())
}

/// Starts the VMs; returns the cluster directory.
pub fn create(
    plan: &ClusterPlan,
    clusters_dir: PathBuf,
    image_dir: PathBuf,
    configs: Vec<Vec<u8>>,
    accel: Accel,
    steps: &Steps,
) -> anyhow::Result<PathBuf> {
    let request = QemuCreateRequest::new(plan.clone(), clusters_dir, image_dir, configs, accel);
    let state = qemu_cluster::create(&request, &mut |line| steps.done(line))?;
    Ok(state.dir)
}

/// `cluster destroy` of a QEMU cluster: `shutdown` to every running node (through the
/// cluster's own client config), up to `timeout` for the VMs to power off, then SIGTERM /
/// SIGKILL for the rest, taps, bridge, directory.
pub fn destroy(
    clusters_dir: &Path,
    name: &str,
    timeout: Duration,
    steps: &Steps,
) -> anyhow::Result<DestroyReport> {
    let state = qemu_cluster::load(clusters_dir, name)?;
    let running: Vec<(String, String)> = state
        .vms
        .iter()
        .filter(|vm| vm.is_running())
        .filter_map(|vm| {
            let node = state.plan.nodes.iter().find(|n| n.name == vm.name)?;
            Some((vm.name.clone(), node.ip.to_string()))
        })
        .collect();
    if !running.is_empty() {
        let accepted = request_shutdown(&state, &running);
        steps.done(&format!(
            "shutdown accepted by {} of {} running VMs{}",
            accepted.len(),
            running.len(),
            if accepted.len() < running.len() {
                " (the others are killed)"
            } else {
                ""
            }
        ));
        if !accepted.is_empty() {
            let left = qemu_cluster::wait_vms_exit(&state, timeout);
            let powered_off = running.len() - left.len();
            steps.done(&format!("{powered_off} VMs powered off"));
        }
    }
    Ok(qemu_cluster::destroy_state(&state, KILL_GRACE))
}

/// Sends `shutdown` to each `(name, ip)`; returns the names that accepted it.
fn request_shutdown(state: &QemuClusterState, nodes: &[(String, String)]) -> Vec<String> {
    let basaltconfig = state.dir.join("basaltconfig");
    if !basaltconfig.is_file() {
        return Vec::new();
    }
    let context = state.plan.name.clone();
    let asked = client::block_on(async {
        let mut accepted = Vec::new();
        for (name, ip) in nodes {
            let call = async {
                let mut c = Client::connect(&global_for(&basaltconfig, &context, ip)).await?;
                c.machine.shutdown(ShutdownRequest { force: true }).await?;
                anyhow::Ok(())
            };
            if let Ok(Ok(())) = tokio::time::timeout(SHUTDOWN_CALL_TIMEOUT, call).await {
                accepted.push(name.clone());
            }
        }
        Ok(accepted)
    });
    asked.unwrap_or_default()
}

/// The rows of `cluster show` for a QEMU cluster.
pub fn view(clusters_dir: &Path, name: &str) -> anyhow::Result<ClusterView> {
    let state = qemu_cluster::load(clusters_dir, name)
        .with_context(|| format!("cannot read QEMU cluster {name}"))?;
    let nodes = state
        .plan
        .nodes
        .iter()
        .map(|n| {
            let vm = state.vms.iter().find(|v| v.name == n.name);
            NodeRow {
                name: n.name.clone(),
                role: n.role.to_string(),
                ip: n.ip.to_string(),
                pid: vm.map(|v| v.pid),
                state: match vm {
                    None => "not started",
                    Some(v) if v.is_running() => "running",
                    Some(_) => "stopped",
                },
            }
        })
        .collect();
    Ok(ClusterView {
        name: state.plan.name.clone(),
        provisioner: format!("qemu ({})", state.accel),
        cidr: state.plan.cidr.to_string(),
        bridge: state.plan.bridge.clone(),
        directory: state.dir.display().to_string(),
        nodes,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn accel_values() {
        assert_eq!(parse_accel("tcg").unwrap(), Accel::Tcg);
        assert!(parse_accel("hvf").unwrap_err().contains("auto, tcg, kvm"));
    }
}
