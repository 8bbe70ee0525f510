//! `machine.kubelet`.

use serde::{Deserialize, Serialize};

use super::scalars::StringMap;

/// `machine.kubelet`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeletConfig {
    /// Kubelet image reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Extra command-line flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_args: Option<StringMap>,
    /// Extra mounts into the kubelet's environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_mounts: Option<Vec<ExtraMount>>,
    /// KubeletConfiguration overrides (free form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_config: Option<serde_yaml::Value>,
    /// Cluster DNS server IPs.
    #[serde(rename = "clusterDNS", skip_serializing_if = "Option::is_none")]
    pub cluster_dns: Option<Vec<String>>,
    /// Use the runtime's default seccomp profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_runtime_seccomp_profile_enabled: Option<bool>,
    /// Register the node with its FQDN.
    #[serde(rename = "registerWithFQDN", skip_serializing_if = "Option::is_none")]
    pub register_with_fqdn: Option<bool>,
    /// How the node IP is picked.
    #[serde(rename = "nodeIP", skip_serializing_if = "Option::is_none")]
    pub node_ip: Option<KubeletNodeIp>,
    /// Run the kubelet without registering the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_node_registration: Option<bool>,
    /// Do not read static pods from /etc/kubernetes/manifests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_manifests_directory: Option<bool>,
}

/// `machine.kubelet.nodeIP`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeletNodeIp {
    /// CIDRs to pick the node IP from; `!cidr` excludes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_subnets: Option<Vec<String>>,
}

/// `machine.kubelet.extraMounts[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExtraMount {
    /// Absolute path inside the kubelet's view.
    #[serde(default)]
    pub destination: String,
    /// Mount type, e.g. `bind`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub mount_type: Option<String>,
    /// Host path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// fstab-style options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
}
