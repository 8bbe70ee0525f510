//! `machine.features`.

use serde::{Deserialize, Serialize};

/// `machine.features`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FeaturesConfig {
    /// Role-based access control on the machine API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rbac: Option<bool>,
    /// Stable default hostname.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stable_hostname: Option<bool>,
    /// Machine API access from Kubernetes pods.
    #[serde(
        rename = "kubernetesTalosAPIAccess",
        skip_serializing_if = "Option::is_none"
    )]
    pub kubernetes_talos_api_access: Option<KubernetesTalosApiAccess>,
    /// Check client certificates' extended key usage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apid_check_ext_key_usage: Option<bool>,
    /// XFS project quotas on EPHEMERAL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_quota_support: Option<bool>,
    /// Local API server load balancer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kube_prism: Option<KubePrism>,
    /// Host DNS caching resolver.
    #[serde(rename = "hostDNS", skip_serializing_if = "Option::is_none")]
    pub host_dns: Option<HostDns>,
}

/// `machine.features.kubernetesTalosAPIAccess`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubernetesTalosApiAccess {
    /// Turns the feature on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Roles that pods may get (`os:reader` …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_roles: Option<Vec<String>>,
    /// Namespaces allowed to ask.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_kubernetes_namespaces: Option<Vec<String>>,
}

/// `machine.features.kubePrism`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubePrism {
    /// Turns KubePrism on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Local port (Talos default 7445).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
}

/// `machine.features.hostDNS`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostDns {
    /// Turns the host resolver on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Use the host resolver as CoreDNS's upstream.
    #[serde(
        rename = "forwardKubeDNSToHost",
        skip_serializing_if = "Option::is_none"
    )]
    pub forward_kube_dns_to_host: Option<bool>,
    /// Resolve cluster member names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolve_member_names: Option<bool>,
}
