//! `destroy`: stop every VM (SIGTERM to QEMU, SIGKILL after a grace period), delete the
//! taps and the bridge, remove the directory. Idempotent; reports what it removed.

use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::state::QemuClusterState;
use super::QemuClusterError;
use crate::container::ip::{self, ip};
use crate::container::plan::bridge_name;
use crate::container::{cluster_dir, process, DestroyReport};

/// Waits up to `timeout` for every VM's QEMU to end by itself (after a guest `shutdown`);
/// returns the hostnames still running.
pub fn wait_vms_exit(state: &QemuClusterState, timeout: Duration) -> Vec<String> {
    let pids: Vec<(i32, Option<u64>)> = state.vms.iter().map(|v| (v.pid, v.start_time)).collect();
    let alive = process::wait_gone(&pids, timeout);
    state
        .vms
        .iter()
        .filter(|v| alive.contains(&v.pid))
        .map(|v| v.name.clone())
        .collect()
}

/// Destroys QEMU cluster `name` under `clusters_dir`. A missing cluster is no error (the
/// report is empty); leftovers are reported in `failed`.
pub fn destroy(
    clusters_dir: &Path,
    name: &str,
    kill_grace: Duration,
) -> Result<DestroyReport, QemuClusterError> {
    let dir = cluster_dir(clusters_dir, name);
    if !dir.exists() {
        let mut report = DestroyReport::default();
        let bridge = bridge_name(name);
        if ip::link_exists(&bridge) {
            remove_link(&bridge, "bridge", &mut report);
        }
        return Ok(report);
    }
    let state = QemuClusterState::load(&dir)?;
    Ok(destroy_state(&state, kill_grace))
}

/// Undoes everything `state` records (used by `destroy` and by a failed `create`).
pub fn destroy_state(state: &QemuClusterState, kill_grace: Duration) -> DestroyReport {
    let mut report = DestroyReport::default();
    stop_vms(state, kill_grace, &mut report);
    for tap in &state.taps {
        if ip::link_exists(tap) {
            remove_link(tap, "tap", &mut report);
        }
    }
    if state.bridge_made && ip::link_exists(&state.plan.bridge) {
        remove_link(&state.plan.bridge, "bridge", &mut report);
    }
    match std::fs::remove_dir_all(&state.dir) {
        Ok(()) => report.removed.push(format!("dir {}", state.dir.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => report
            .failed
            .push(format!("dir {}: {e}", state.dir.display())),
    }
    report
}

fn remove_link(name: &str, kind: &str, report: &mut DestroyReport) {
    match ip(&["link", "del", name]) {
        Ok(_) => report.removed.push(format!("{kind} {name}")),
        Err(e) => report.failed.push(format!("{kind} {name}: {e}")),
    }
}

/// SIGTERM to every running QEMU (it ends at once), SIGKILL after `grace`.
fn stop_vms(state: &QemuClusterState, grace: Duration, report: &mut DestroyReport) {
    let mut running = Vec::new();
    for vm in &state.vms {
        if vm.is_running() {
            process::signal(vm.pid, vm.start_time, Signal::SIGTERM);
            running.push((vm.pid, vm.start_time));
        }
    }
    let alive = process::wait_gone(&running, grace);
    if !alive.is_empty() {
        for (pid, started) in &running {
            if alive.contains(pid) {
                process::signal(*pid, *started, Signal::SIGKILL);
            }
        }
        for pid in process::wait_gone(&running, Duration::from_secs(5)) {
            report
                .failed
                .push(format!("QEMU pid {pid}: still running after SIGKILL"));
        }
    }
    for vm in &state.vms {
        let how = if alive.contains(&vm.pid) {
            "killed"
        } else if running.iter().any(|(p, _)| *p == vm.pid) {
            "terminated"
        } else {
            "stopped"
        };
        report
            .removed
            .push(format!("VM {} (QEMU pid {}, {how})", vm.name, vm.pid));
    }
}
