//! What `gen config` is asked for, and the checks run before anything is generated.

use url::Url;

use super::defaults::{DEFAULT_INSTALL_DISK, DEFAULT_KUBERNETES_VERSION};
use crate::validate::checks;

/// Inputs of `gen config` besides the secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Cluster name (`cluster.clusterName`).
    pub cluster_name: String,
    /// Kubernetes API endpoint, e.g. `https://10.5.0.2:6443`.
    pub endpoint: String,
    /// Kubernetes version without the `v`, e.g. `1.34.1`.
    pub kubernetes_version: String,
    /// Install disk for metal mode.
    pub install_disk: String,
    /// Extra SANs for the node and API server certificates.
    pub additional_sans: Vec<String>,
}

impl GenerateOptions {
    /// Options with Basalt's defaults for everything but the name and endpoint.
    pub fn new(cluster_name: impl Into<String>, endpoint: impl Into<String>) -> Self {
        GenerateOptions {
            cluster_name: cluster_name.into(),
            endpoint: endpoint.into(),
            kubernetes_version: DEFAULT_KUBERNETES_VERSION.to_string(),
            install_disk: DEFAULT_INSTALL_DISK.to_string(),
            additional_sans: Vec::new(),
        }
    }

    /// Checks every input and returns the parsed form the generator uses.
    pub(crate) fn check(&self) -> Result<CheckedOptions, GenerateError> {
        let name = self.cluster_name.trim();
        if !checks::cluster_name(name) {
            return Err(GenerateError::ClusterName(self.cluster_name.clone()));
        }
        let endpoint = Url::parse(&self.endpoint).map_err(|e| GenerateError::Endpoint {
            endpoint: self.endpoint.clone(),
            reason: e.to_string(),
        })?;
        if endpoint.scheme() != "https" {
            return Err(GenerateError::Endpoint {
                endpoint: self.endpoint.clone(),
                reason: format!("the scheme must be https, not {}", endpoint.scheme()),
            });
        }
        let host = match endpoint.host_str() {
            Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']').to_string(),
            _ => {
                return Err(GenerateError::Endpoint {
                    endpoint: self.endpoint.clone(),
                    reason: "it has no host".to_string(),
                })
            }
        };
        let version = self.kubernetes_version.trim_start_matches('v').to_string();
        let parts: Vec<&str> = version.split('.').collect();
        if parts.len() != 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(GenerateError::KubernetesVersion(
                self.kubernetes_version.clone(),
            ));
        }
        if !self.install_disk.starts_with("/dev/") {
            return Err(GenerateError::InstallDisk(self.install_disk.clone()));
        }
        for san in &self.additional_sans {
            if !checks::san(san) {
                return Err(GenerateError::San(san.clone()));
            }
        }
        Ok(CheckedOptions {
            cluster_name: name.to_string(),
            endpoint: self.endpoint.clone(),
            endpoint_host: host,
            kubernetes_version: version,
            install_disk: self.install_disk.clone(),
            additional_sans: self.additional_sans.clone(),
        })
    }
}

/// [`GenerateOptions`] after checking.
#[derive(Debug, Clone)]
pub(crate) struct CheckedOptions {
    pub cluster_name: String,
    pub endpoint: String,
    pub endpoint_host: String,
    pub kubernetes_version: String,
    pub install_disk: String,
    pub additional_sans: Vec<String>,
}

/// Why `gen config` refused its inputs.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// Bad cluster name.
    #[error("cluster name {0:?} is not valid: use lowercase letters, digits, '-' and '.' (at most 63, starting and ending with a letter or digit)")]
    ClusterName(String),
    /// Bad endpoint.
    #[error("cluster endpoint {endpoint:?} is not valid ({reason}); give the Kubernetes API URL, e.g. https://10.5.0.2:6443")]
    Endpoint {
        /// What was given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Bad Kubernetes version.
    #[error("--kubernetes-version {0:?} is not a version; use MAJOR.MINOR.PATCH, e.g. 1.34.1")]
    KubernetesVersion(String),
    /// Bad install disk.
    #[error("--install-disk {0:?} is not a device path; use e.g. /dev/sda or /dev/vda")]
    InstallDisk(String),
    /// Bad SAN.
    #[error("--additional-sans entry {0:?} is neither an IP address nor a DNS name")]
    San(String),
    /// The secrets bundle is unusable.
    #[error("the secrets bundle is not valid: {0}")]
    Secrets(#[source] basalt_pki::PkiError),
}
