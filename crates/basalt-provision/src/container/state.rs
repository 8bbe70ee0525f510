//! `state.json`: what a cluster is and everything it made on the host, written after each
//! creation step so that `destroy` can undo a half-made cluster too.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::plan::ClusterPlan;
use super::ContainerError;

/// The state file's name inside the cluster directory.
pub const STATE_FILE: &str = "state.json";

/// A running (or half-made) node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// Hostname.
    pub name: String,
    /// The launcher's host pid (`basalt launch`).
    pub pid: Option<i32>,
    /// The launcher's start time (clock ticks since boot, `/proc/PID/stat` field 22), so a
    /// recycled pid is never signalled.
    pub start_time: Option<u64>,
    /// machined's host pid (PID 1 of the node's pid namespace).
    pub machined_pid: Option<i32>,
    /// machined's start time (see `start_time`).
    #[serde(default)]
    pub machined_start_time: Option<u64>,
    /// The node's directory (`state/`, `ephemeral/`, `sockets/`, `root/`, `config.yaml`,
    /// `console.log`).
    pub dir: PathBuf,
}

/// Everything `destroy` needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterState {
    /// The plan (names, addresses, links).
    pub plan: ClusterPlan,
    /// The cluster directory.
    pub dir: PathBuf,
    /// The bridge was created.
    pub bridge_made: bool,
    /// Network namespaces created (names).
    pub netns: Vec<String>,
    /// Host-side veth links created.
    pub links: Vec<String>,
    /// Started nodes.
    pub nodes: Vec<NodeState>,
}

impl ClusterState {
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

    /// Reads `DIR/state.json`.
    pub fn load(dir: &Path) -> Result<Self, ContainerError> {
        let path = dir.join(STATE_FILE);
        let text = std::fs::read_to_string(&path).map_err(ContainerError::io("read", &path))?;
        serde_json::from_str(&text).map_err(|e| ContainerError::BadState {
            path,
            reason: e.to_string(),
        })
    }
}
