//! `gen config`: builds the control-plane and worker machine configs from a secrets bundle,
//! in the shape `talosctl gen config` writes them.
//!
//! The two configs share the cluster's secrets; the worker carries no private CA key (only
//! the certificates it needs to trust the cluster), exactly as Talos does.

mod cluster;
mod defaults;
mod machine;
mod options;

pub use defaults::{
    DEFAULT_DNS_DOMAIN, DEFAULT_INSTALL_DISK, DEFAULT_KUBERNETES_VERSION, DEFAULT_POD_SUBNET,
    DEFAULT_SERVICE_SUBNET,
};
pub use options::{GenerateError, GenerateOptions};

use basalt_pki::SecretsBundle;

use crate::document::{Document, MachineConfig};
use crate::v1alpha1::{Config, MachineType};

/// The pair of configs `gen config` writes.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedConfigs {
    /// `controlplane.yaml`.
    pub controlplane: MachineConfig,
    /// `worker.yaml`.
    pub worker: MachineConfig,
}

/// Builds both configs. Inputs are checked first; an error names the bad input.
pub fn generate(
    secrets: &SecretsBundle,
    options: &GenerateOptions,
) -> Result<GeneratedConfigs, GenerateError> {
    let checked = options.check()?;
    secrets.validate().map_err(GenerateError::Secrets)?;
    let build = |role: MachineType| -> MachineConfig {
        let config = Config {
            version: "v1alpha1".to_string(),
            debug: Some(false),
            persist: Some(true),
            machine: machine::machine_section(role, secrets, &checked),
            cluster: cluster::cluster_section(role, secrets, &checked),
        };
        MachineConfig::new(vec![Document::V1Alpha1(Box::new(config))])
    };
    Ok(GeneratedConfigs {
        controlplane: build(MachineType::ControlPlane),
        worker: build(MachineType::Worker),
    })
}
