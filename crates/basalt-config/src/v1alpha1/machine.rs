//! `machine:` — node-level settings.

use serde::{Deserialize, Serialize};

use super::features::FeaturesConfig;
use super::install::InstallConfig;
use super::kubelet::KubeletConfig;
use super::network::NetworkConfig;
use super::pki_fields::{CertAndKey, CertOnly};
use super::registries::RegistriesConfig;
use super::scalars::{FileMode, StringMap};

/// `machine:` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MachineConfig {
    /// `controlplane` or `worker` (legacy `init`/`join` accepted).
    #[serde(rename = "type", default)]
    pub machine_type: String,
    /// Token used to obtain the node's certificate from trustd.
    #[serde(default)]
    pub token: String,
    /// The OS (Talos API) certificate authority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<CertAndKey>,
    /// Extra CAs accepted for API clients.
    #[serde(rename = "acceptedCAs", skip_serializing_if = "Option::is_none")]
    pub accepted_cas: Option<Vec<CertOnly>>,
    /// Extra SANs for the node certificate.
    #[serde(rename = "certSANs", skip_serializing_if = "Option::is_none")]
    pub cert_sans: Option<Vec<String>>,
    /// Per-node control-plane switches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_plane: Option<MachineControlPlane>,
    /// Kubelet settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubelet: Option<KubeletConfig>,
    /// Host network settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkConfig>,
    /// Installation settings (metal only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install: Option<InstallConfig>,
    /// Extra files written on the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<MachineFile>>,
    /// Environment variables for system services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<StringMap>,
    /// Time synchronisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeConfig>,
    /// Kernel sysctls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sysctls: Option<StringMap>,
    /// sysfs values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sysfs: Option<StringMap>,
    /// Container registry mirrors and credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registries: Option<RegistriesConfig>,
    /// Feature switches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<FeaturesConfig>,
    /// Kubernetes node labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_labels: Option<StringMap>,
    /// Kubernetes node annotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_annotations: Option<StringMap>,
    /// Kubernetes node taints (`key: value:Effect`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_taints: Option<StringMap>,
    /// Kernel modules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelConfig>,
    /// Log shipping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<LoggingConfig>,
}

/// `machine.controlPlane`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MachineControlPlane {
    /// Controller manager on this node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller_manager: Option<Disabled>,
    /// Scheduler on this node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<Disabled>,
}

/// A `{disabled: bool}` switch.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Disabled {
    /// True to turn the component off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

/// `machine.files[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MachineFile {
    /// File contents.
    #[serde(default)]
    pub content: String,
    /// Permissions (octal).
    #[serde(default)]
    pub permissions: FileMode,
    /// Absolute path.
    #[serde(default)]
    pub path: String,
    /// `create`, `append` or `overwrite`.
    #[serde(default)]
    pub op: String,
}

/// `machine.time`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TimeConfig {
    /// Turns time sync off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// NTP servers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub servers: Option<Vec<String>>,
    /// Go duration, e.g. `2m0s`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_timeout: Option<String>,
}

/// `machine.kernel`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KernelConfig {
    /// Modules to load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modules: Option<Vec<KernelModule>>,
}

/// `machine.kernel.modules[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KernelModule {
    /// Module name.
    #[serde(default)]
    pub name: String,
    /// Module parameters (`key=value`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<String>>,
}

/// `machine.logging`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoggingConfig {
    /// Where to send logs.
    #[serde(default)]
    pub destinations: Vec<LoggingDestination>,
}

/// `machine.logging.destinations[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoggingDestination {
    /// `tcp://host:port` or `udp://host:port`.
    #[serde(default)]
    pub endpoint: String,
    /// `json_lines`.
    #[serde(default)]
    pub format: String,
    /// Extra tags added to each message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_tags: Option<StringMap>,
}
