//! Companion documents (`apiVersion: v1alpha1` + `kind:`) that Basalt supports, and the
//! Talos kinds it knows but does not support yet.

use serde::{Deserialize, Serialize};

/// Kinds Basalt decodes.
pub const SUPPORTED_KINDS: &[&str] = &[
    "TrustedRootsConfig",
    "KmsgLogConfig",
    "NetworkDefaultActionConfig",
    "NetworkRuleConfig",
];

/// Talos document kinds (v1.11 era) that Basalt recognises but does not implement yet.
pub const UNSUPPORTED_KINDS: &[&str] = &[
    "SideroLinkConfig",
    "EventSinkConfig",
    "WatchdogTimerConfig",
    "VolumeConfig",
    "UserVolumeConfig",
    "RawVolumeConfig",
    "ExistingVolumeConfig",
    "SwapVolumeConfig",
    "ZswapConfig",
    "ExtensionServiceConfig",
    "EthernetConfig",
    "KubeSpanEndpointsConfig",
    "PCIDriverRebindConfig",
    "HostnameConfig",
    "ResolverConfig",
    "TimeSyncConfig",
    "LinkConfig",
    "DummyLinkConfig",
    "BondConfig",
    "BridgeConfig",
    "VLANConfig",
    "StaticHostConfig",
    "KubeSpanConfig",
    "RoutingRuleConfig",
    "WireguardConfig",
];

/// `TrustedRootsConfig`: extra trusted root CAs for the OS.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrustedRootsConfig {
    /// `v1alpha1`.
    pub api_version: String,
    /// `TrustedRootsConfig`.
    pub kind: String,
    /// Unique name of this bundle.
    #[serde(default)]
    pub name: String,
    /// PEM certificates, concatenated.
    #[serde(default)]
    pub certificates: String,
}

/// `KmsgLogConfig`: stream kernel messages to a remote endpoint.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KmsgLogConfig {
    /// `v1alpha1`.
    pub api_version: String,
    /// `KmsgLogConfig`.
    pub kind: String,
    /// Unique name.
    #[serde(default)]
    pub name: String,
    /// `tcp://host:port` or `udp://host:port`.
    #[serde(default)]
    pub url: String,
}

/// `NetworkDefaultActionConfig`: default ingress policy of the host firewall.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkDefaultActionConfig {
    /// `v1alpha1`.
    pub api_version: String,
    /// `NetworkDefaultActionConfig`.
    pub kind: String,
    /// `accept` or `block`.
    #[serde(default)]
    pub ingress: String,
}

/// `NetworkRuleConfig`: one host firewall rule.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkRuleConfig {
    /// `v1alpha1`.
    pub api_version: String,
    /// `NetworkRuleConfig`.
    pub kind: String,
    /// Unique name.
    #[serde(default)]
    pub name: String,
    /// Ports and protocol the rule matches.
    #[serde(default)]
    pub port_selector: PortSelector,
    /// Allowed sources.
    #[serde(default)]
    pub ingress: Vec<IngressRule>,
}

/// `portSelector`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PortSelector {
    /// Ports: a number or a `low-high` range.
    #[serde(default)]
    pub ports: Vec<PortRange>,
    /// `tcp`, `udp`, `icmp` or `icmpv6`.
    #[serde(default)]
    pub protocol: String,
}

/// A port (`80`) or range (`"30000-32767"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PortRange {
    /// One port.
    Single(u16),
    /// `low-high`, checked by validation.
    Range(String),
}

/// `ingress[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressRule {
    /// Source CIDR.
    #[serde(default)]
    pub subnet: String,
    /// CIDR excluded from `subnet`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub except: Option<String>,
}
