//! `cluster:` — cluster-wide settings and secrets.

use serde::{Deserialize, Serialize};

use super::components::{ApiServer, ControllerManager, CoreDns, Discovery, Etcd, Proxy, Scheduler};
use super::pki_fields::{CertAndKey, CertOnly, KeyOnly};
use super::scalars::StringMap;

/// `cluster:` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterConfig {
    /// Cluster identity (base64 of 32 random bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Shared cluster secret (base64 of 32 random bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Control-plane endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_plane: Option<ControlPlane>,
    /// Cluster name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// Pod/service networking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<ClusterNetwork>,
    /// Kubernetes bootstrap token (`abcdef.0123456789abcdef`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Secretbox key for secrets at rest (base64 of 32 bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secretbox_encryption_secret: Option<String>,
    /// AES-CBC key for secrets at rest (base64 of 32 bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aescbc_encryption_secret: Option<String>,
    /// Kubernetes CA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<CertAndKey>,
    /// Extra accepted Kubernetes CAs.
    #[serde(rename = "acceptedCAs", skip_serializing_if = "Option::is_none")]
    pub accepted_cas: Option<Vec<CertOnly>>,
    /// Front-proxy (aggregation layer) CA.
    #[serde(rename = "aggregatorCA", skip_serializing_if = "Option::is_none")]
    pub aggregator_ca: Option<CertAndKey>,
    /// Service-account signing key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<KeyOnly>,
    /// kube-apiserver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_server: Option<ApiServer>,
    /// kube-controller-manager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller_manager: Option<ControllerManager>,
    /// kube-proxy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<Proxy>,
    /// kube-scheduler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<Scheduler>,
    /// Cluster member discovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery: Option<Discovery>,
    /// etcd.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etcd: Option<Etcd>,
    /// CoreDNS.
    #[serde(rename = "coreDNS", skip_serializing_if = "Option::is_none")]
    pub core_dns: Option<CoreDns>,
    /// URLs of extra manifests applied at bootstrap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_manifests: Option<Vec<String>>,
    /// HTTP headers used to fetch `extraManifests`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_manifest_headers: Option<StringMap>,
    /// Manifests given inline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inline_manifests: Option<Vec<InlineManifest>>,
    /// Let workloads run on control-plane nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_scheduling_on_control_planes: Option<bool>,
    /// Admin kubeconfig settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_kubeconfig: Option<AdminKubeconfig>,
}

/// `cluster.controlPlane`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControlPlane {
    /// Canonical API server URL, e.g. `https://10.5.0.2:6443`.
    #[serde(default)]
    pub endpoint: String,
    /// Port the API server listens on locally.
    #[serde(rename = "localAPIServerPort", skip_serializing_if = "Option::is_none")]
    pub local_api_server_port: Option<u32>,
}

/// `cluster.network`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterNetwork {
    /// CNI choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cni: Option<Cni>,
    /// Kubernetes DNS domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_domain: Option<String>,
    /// Pod CIDRs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_subnets: Option<Vec<String>>,
    /// Service CIDRs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_subnets: Option<Vec<String>>,
}

/// `cluster.network.cni`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cni {
    /// `flannel`, `custom` or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Manifest URLs for `custom`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
}

/// `cluster.inlineManifests[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InlineManifest {
    /// Unique name.
    #[serde(default)]
    pub name: String,
    /// YAML text.
    #[serde(default)]
    pub contents: String,
}

/// `cluster.adminKubeconfig`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdminKubeconfig {
    /// Go duration, e.g. `8760h0m0s`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_lifetime: Option<String>,
}
