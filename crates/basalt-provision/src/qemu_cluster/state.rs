//! `state.json` of a QEMU cluster: the plan and everything made on the host, written after
//! each creation step so that `destroy` can undo a half-made cluster too.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::QemuClusterError;
use crate::container::{cluster_dir, ClusterPlan, ContainerError, STATE_FILE};

/// The `provisioner` value in a QEMU cluster's `state.json` (container clusters have none).
pub const PROVISIONER: &str = "qemu";

/// A started VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmState {
    /// Hostname.
    pub name: String,
    /// QEMU's host pid.
    pub pid: i32,
    /// QEMU's start time (`/proc/PID/stat` field 22), so a recycled pid is never signalled.
    pub start_time: Option<u64>,
    /// The tap the VM's NIC uses.
    pub tap: String,
    /// The guest NIC's MAC address.
    pub mac: String,
    /// The node's directory (`data.raw`, `config.raw`, `config.yaml`, `console.log`).
    pub dir: PathBuf,
}

impl VmState {
    /// The serial console log.
    pub fn console_log(&self) -> PathBuf {
        self.dir.join("console.log")
    }

    /// Whether QEMU still runs.
    pub fn is_running(&self) -> bool {
        crate::container::is_alive(self.pid, self.start_time)
    }
}

/// Everything `destroy` and `cluster show` need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QemuClusterState {
    /// Always [`PROVISIONER`].
    pub provisioner: String,
    /// The plan (names, addresses, bridge, tap names).
    pub plan: ClusterPlan,
    /// The cluster directory.
    pub dir: PathBuf,
    /// The accelerator QEMU runs with (`tcg` or `kvm`).
    pub accel: String,
    /// The bridge was created.
    pub bridge_made: bool,
    /// Taps created.
    pub taps: Vec<String>,
    /// Started VMs.
    pub vms: Vec<VmState>,
}

impl QemuClusterState {
    /// Writes `state.json` (atomically: temp file + rename).
    pub fn save(&self) -> Result<(), ContainerError> {
        let path = self.dir.join(STATE_FILE);
        let tmp = self.dir.join(".state.json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| ContainerError::BadState {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        std::fs::write(&tmp, text).map_err(ContainerError::io("write", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(ContainerError::io("rename into", &path))
    }

    /// Reads `DIR/state.json`; refuses a container cluster's state.
    pub fn load(dir: &Path) -> Result<Self, QemuClusterError> {
        let path = dir.join(STATE_FILE);
        let text = std::fs::read_to_string(&path).map_err(ContainerError::io("read", &path))?;
        let found = provisioner_of(&text);
        if found != PROVISIONER {
            return Err(QemuClusterError::NotQemu { path, found });
        }
        serde_json::from_str(&text).map_err(|e| {
            QemuClusterError::Host(ContainerError::BadState {
                path,
                reason: e.to_string(),
            })
        })
    }
}

/// The `provisioner` field of a state file's text (`container` when absent).
fn provisioner_of(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("provisioner")?.as_str().map(str::to_string))
        .unwrap_or_else(|| "container".to_string())
}

/// Whether cluster `name` under `clusters_dir` exists and is a QEMU cluster.
pub fn is_qemu_cluster(clusters_dir: &Path, name: &str) -> bool {
    std::fs::read_to_string(cluster_dir(clusters_dir, name).join(STATE_FILE))
        .is_ok_and(|t| provisioner_of(&t) == PROVISIONER)
}

/// Loads the state of QEMU cluster `name`.
pub fn load(clusters_dir: &Path, name: &str) -> Result<QemuClusterState, QemuClusterError> {
    let dir = cluster_dir(clusters_dir, name);
    if !dir.join(STATE_FILE).is_file() {
        return Err(ContainerError::NotFound {
            name: name.to_string(),
            dir: clusters_dir.to_path_buf(),
        }
        .into());
    }
    QemuClusterState::load(&dir)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip_and_container_states_are_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("q");
        std::fs::create_dir(&dir).unwrap();
        let state = QemuClusterState {
            provisioner: PROVISIONER.to_string(),
            plan: ClusterPlan::new("q", "10.9.0.0/24", 1, 0).unwrap(),
            dir: dir.clone(),
            accel: "tcg".into(),
            bridge_made: true,
            taps: vec!["bv000000-0".into()],
            vms: Vec::new(),
        };
        state.save().unwrap();
        assert!(is_qemu_cluster(tmp.path(), "q"));
        assert_eq!(load(tmp.path(), "q").unwrap(), state);

        std::fs::write(dir.join(STATE_FILE), r#"{"plan":{}}"#).unwrap();
        assert!(!is_qemu_cluster(tmp.path(), "q"));
        let e = load(tmp.path(), "q").unwrap_err();
        assert!(e.to_string().contains("provisioner \"container\""), "{e}");
        let e = load(tmp.path(), "nope").unwrap_err();
        assert!(e.to_string().contains("no cluster nope"), "{e}");
    }
}
