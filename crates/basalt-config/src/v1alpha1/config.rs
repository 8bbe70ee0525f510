//! The top of the `v1alpha1` document: `version`, `debug`, `persist`, `machine`, `cluster`.

use serde::{Deserialize, Serialize};

use super::cluster::ClusterConfig;
use super::machine::MachineConfig;

/// The Talos `v1alpha1` machine configuration document.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Schema version; must be `v1alpha1`.
    pub version: String,
    /// Verbose console logging.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug: Option<bool>,
    /// Kept for Talos compatibility (always `true` in practice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persist: Option<bool>,
    /// Node-level settings.
    pub machine: MachineConfig,
    /// Cluster-level settings.
    pub cluster: ClusterConfig,
}

/// The role of a machine, after mapping Talos's legacy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineType {
    /// Runs etcd and the Kubernetes control plane (`controlplane`, legacy `init`).
    ControlPlane,
    /// Runs workloads only (`worker`, legacy `join`).
    Worker,
}

impl MachineType {
    /// The accepted spellings of `machine.type`.
    pub const VALID: &'static [&'static str] = &["controlplane", "worker", "init", "join"];

    /// Parses `machine.type` as Talos does (`init` → control plane, `join` → worker).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "controlplane" | "init" => Some(MachineType::ControlPlane),
            "worker" | "join" => Some(MachineType::Worker),
            _ => None,
        }
    }
}

impl Config {
    /// The machine's role, if `machine.type` is valid.
    pub fn machine_type(&self) -> Option<MachineType> {
        MachineType::parse(&self.machine.machine_type)
    }
}
