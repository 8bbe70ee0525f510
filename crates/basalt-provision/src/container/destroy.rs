//! `destroy`: stop every node (SIGTERM, then SIGKILL after a timeout), delete network
//! namespaces, veth links and the bridge, unmount anything left, remove the directory.
//! Idempotent; reports what it removed.

use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::create::cluster_dir;
use super::ip::{self, ip};
use super::plan::bridge_name;
use super::process;
use super::state::ClusterState;
use super::ContainerError;

/// What `destroy` removed, and what it could not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestroyReport {
    /// One entry per removed thing (`process …`, `netns …`, `link …`, `mount …`, `dir …`).
    pub removed: Vec<String>,
    /// Things that could not be removed, with the reason.
    pub failed: Vec<String>,
}

impl DestroyReport {
    /// One line: what was removed (and what failed).
    pub fn summary(&self) -> String {
        let mut s = if self.removed.is_empty() {
            "nothing".to_string()
        } else {
            self.removed.join(", ")
        };
        if !self.failed.is_empty() {
            s.push_str(&format!("; NOT removed: {}", self.failed.join("; ")));
        }
        s
    }
}

/// Destroys cluster `name` under `clusters_dir`. A missing cluster is no error (the report
/// is empty); leftovers are reported in `failed`.
pub fn destroy(
    clusters_dir: &Path,
    name: &str,
    stop_timeout: Duration,
) -> Result<DestroyReport, ContainerError> {
    let dir = cluster_dir(clusters_dir, name);
    if !dir.exists() {
        let mut report = DestroyReport::default();
        // A bridge left by a crash between `ip link add` and the first state write.
        let bridge = bridge_name(name);
        if ip::link_exists(&bridge) {
            remove_link(&bridge, "bridge", &mut report);
        }
        return Ok(report);
    }
    let state = ClusterState::load(&dir)?;
    Ok(destroy_state(&state, stop_timeout))
}

/// Undoes everything `state` records (used by `destroy` and by a failed `create`).
pub fn destroy_state(state: &ClusterState, stop_timeout: Duration) -> DestroyReport {
    let mut report = DestroyReport::default();
    stop_nodes(state, stop_timeout, &mut report);
    for ns in &state.netns {
        if ip::netns_exists(ns) {
            match ip(&["netns", "del", ns]) {
                Ok(_) => report.removed.push(format!("netns {ns}")),
                Err(e) => report.failed.push(format!("netns {ns}: {e}")),
            }
        }
    }
    for link in &state.links {
        // Usually gone with its peer's namespace.
        if ip::link_exists(link) {
            remove_link(link, "link", &mut report);
        } else {
            report.removed.push(format!("link {link}"));
        }
    }
    if state.bridge_made && ip::link_exists(&state.plan.bridge) {
        remove_link(&state.plan.bridge, "bridge", &mut report);
    }
    unmount_under(&state.dir, &mut report);
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
        // a veth goes away with its peer's namespace between the check and the delete
        Err(_) if !ip::link_exists(name) => report.removed.push(format!("{kind} {name}")),
        Err(e) => report.failed.push(format!("{kind} {name}: {e}")),
    }
}

/// SIGTERM to each launcher (it forwards it: machined shuts down), or to machined when the
/// launcher is gone; SIGKILL to both after `timeout`.
fn stop_nodes(state: &ClusterState, timeout: Duration, report: &mut DestroyReport) {
    let mut watched = Vec::new();
    for node in &state.nodes {
        let launcher = node.pid.map(|p| (p, node.start_time));
        let machined = node.machined_pid.map(|p| (p, node.machined_start_time));
        let target = launcher
            .filter(|(p, s)| process::is_alive(*p, *s))
            .or(machined.filter(|(p, s)| process::is_alive(*p, *s)));
        if let Some((pid, started)) = target {
            process::signal(pid, started, Signal::SIGTERM);
        }
        watched.extend(launcher);
        watched.extend(machined);
    }
    let alive = process::wait_gone(&watched, timeout);
    if !alive.is_empty() {
        for (pid, started) in &watched {
            if alive.contains(pid) {
                process::signal(*pid, *started, Signal::SIGKILL);
            }
        }
        for pid in process::wait_gone(&watched, Duration::from_secs(5)) {
            report
                .failed
                .push(format!("process {pid}: still running after SIGKILL"));
        }
    }
    for node in &state.nodes {
        if let Some(pid) = node.pid {
            let how = if alive.contains(&pid) {
                "killed"
            } else {
                "stopped"
            };
            report
                .removed
                .push(format!("process {} (pid {pid}, {how})", node.name));
        }
    }
}

/// Unmounts (lazily) every mount at or below `dir` in this mount namespace, deepest first.
fn unmount_under(dir: &Path, report: &mut DestroyReport) {
    let Ok(mounts) = std::fs::read_to_string("/proc/mounts") else {
        return;
    };
    let mut targets: Vec<String> = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|t| t.replace("\\040", " "))
        .filter(|t| Path::new(t).starts_with(dir))
        .collect();
    targets.sort_by_key(|t| std::cmp::Reverse(t.len()));
    for t in targets {
        match nix::mount::umount2(t.as_str(), nix::mount::MntFlags::MNT_DETACH) {
            Ok(()) => report.removed.push(format!("mount {t}")),
            Err(e) => report.failed.push(format!("mount {t}: {e}")),
        }
    }
}
