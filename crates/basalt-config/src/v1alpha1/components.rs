//! Kubernetes and etcd components under `cluster:`.

use serde::{Deserialize, Serialize};

use super::machine::Disabled;
use super::pki_fields::CertAndKey;
use super::scalars::StringMap;

/// `extraVolumes[]` of a control-plane component.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeMount {
    /// Host path.
    #[serde(default)]
    pub host_path: String,
    /// Path in the container.
    #[serde(default)]
    pub mount_path: String,
    /// Mount read-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
}

/// `resources` of a control-plane component (Kubernetes quantities, free form).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
    /// Requests (`cpu`, `memory`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<serde_yaml::Value>,
    /// Limits (`cpu`, `memory`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<serde_yaml::Value>,
}

/// `cluster.apiServer.admissionControl[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdmissionPlugin {
    /// Plugin name, e.g. `PodSecurity`.
    #[serde(default)]
    pub name: String,
    /// Plugin configuration object (free form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<serde_yaml::Value>,
}

/// `cluster.apiServer`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiServer {
    /// Image reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Extra flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_args: Option<StringMap>,
    /// Extra host mounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_volumes: Option<Vec<VolumeMount>>,
    /// Environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<StringMap>,
    /// Extra SANs for the API server certificate.
    #[serde(rename = "certSANs", skip_serializing_if = "Option::is_none")]
    pub cert_sans: Option<Vec<String>>,
    /// Kept for Talos compatibility.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_pod_security_policy: Option<bool>,
    /// Admission plugin configurations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_control: Option<Vec<AdmissionPlugin>>,
    /// Audit policy (free form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_policy: Option<serde_yaml::Value>,
    /// Resource requests/limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// `cluster.controllerManager`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControllerManager {
    /// Image reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Extra flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_args: Option<StringMap>,
    /// Extra host mounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_volumes: Option<Vec<VolumeMount>>,
    /// Environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<StringMap>,
    /// Resource requests/limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// `cluster.scheduler`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scheduler {
    /// Image reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Extra flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_args: Option<StringMap>,
    /// Extra host mounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_volumes: Option<Vec<VolumeMount>>,
    /// Environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<StringMap>,
    /// Resource requests/limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// KubeSchedulerConfiguration (free form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_yaml::Value>,
}

/// `cluster.proxy`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Proxy {
    /// Do not deploy kube-proxy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Image reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `iptables`, `ipvs` or `nftables`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Extra flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_args: Option<StringMap>,
}

/// `cluster.etcd`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Etcd {
    /// Image reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// etcd CA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<CertAndKey>,
    /// Extra flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_args: Option<StringMap>,
    /// CIDRs to pick the advertised peer address from (`!` excludes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertised_subnets: Option<Vec<String>>,
    /// CIDRs etcd listens on (`!` excludes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen_subnets: Option<Vec<String>>,
}

/// `cluster.coreDNS`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CoreDns {
    /// Do not deploy CoreDNS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Image reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// `cluster.discovery`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Discovery {
    /// Turns member discovery on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Registries used for discovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registries: Option<DiscoveryRegistries>,
}

/// `cluster.discovery.registries`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DiscoveryRegistries {
    /// Kubernetes-API-backed registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<Disabled>,
    /// External discovery service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceRegistry>,
}

/// `cluster.discovery.registries.service`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceRegistry {
    /// Turns the service registry off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Service URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}
