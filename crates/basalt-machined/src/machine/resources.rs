//! The resources machined itself owns: machine status, config, hostname, member.

use basalt_config::v1alpha1::MachineType;
use basalt_config::MachineConfig;
use basalt_resources::{Column, ResourceDefinition, Spec, Store, StoreError};
use serde::{Deserialize, Serialize};

/// Owner name of every resource machined writes.
pub const OWNER: &str = "machined";

/// `MachineStatuses.runtime.basalt.dev`, id `machine`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineStatusSpec {
    /// `booting`, `running`, `rebooting`, `shutting down` or `maintenance`.
    pub stage: String,
    /// Whether every service is up and healthy.
    pub ready: bool,
}

impl Spec for MachineStatusSpec {
    const TYPE: &'static str = "MachineStatuses.runtime.basalt.dev";
    const NAMESPACE: &'static str = "runtime";
}

/// Id of the one machine status resource.
pub const MACHINE_STATUS_ID: &str = "machine";

/// `Hostnames.net.basalt.dev`, id `hostname`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostnameSpec {
    /// Host name.
    pub hostname: String,
    /// Domain name (empty when none).
    pub domainname: String,
}

impl Spec for HostnameSpec {
    const TYPE: &'static str = "Hostnames.net.basalt.dev";
    const NAMESPACE: &'static str = "network";
}

/// Id of the one hostname resource.
pub const HOSTNAME_ID: &str = "hostname";

/// `Members.cluster.basalt.dev`: a cluster member (machined publishes itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberSpec {
    /// Node identity.
    pub node_id: String,
    /// Addresses of the node (non-loopback).
    pub addresses: Vec<String>,
    /// Host name.
    pub hostname: String,
    /// `controlplane` or `worker`.
    pub machine_type: String,
}

impl Spec for MemberSpec {
    const TYPE: &'static str = "Members.cluster.basalt.dev";
    const NAMESPACE: &'static str = "cluster";
}

/// `MachineConfigs.config.basalt.dev` (sensitive): the `v1alpha1` document as JSON.
pub const MACHINE_CONFIG_TYPE: &str = "MachineConfigs.config.basalt.dev";
/// Namespace of the machine config resource.
pub const MACHINE_CONFIG_NAMESPACE: &str = "config";
/// Id of the machine config resource.
pub const MACHINE_CONFIG_ID: &str = "v1alpha1";

/// The definitions machined registers (the supervisor registers Services).
pub fn definitions() -> Vec<ResourceDefinition> {
    let def = |type_: &str, ns: &str, aliases: &[&str], columns: &[(&str, &str)], sensitive| {
        ResourceDefinition {
            type_: type_.to_string(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            default_namespace: ns.to_string(),
            columns: columns.iter().map(|(n, p)| Column::new(*n, *p)).collect(),
            sensitive,
        }
    };
    vec![
        def(
            MachineStatusSpec::TYPE,
            MachineStatusSpec::NAMESPACE,
            &["machinestatus", "ms"],
            &[("Stage", "{.stage}"), ("Ready", "{.ready}")],
            false,
        ),
        def(
            MACHINE_CONFIG_TYPE,
            MACHINE_CONFIG_NAMESPACE,
            &["machineconfig", "mc"],
            &[],
            true,
        ),
        def(
            HostnameSpec::TYPE,
            HostnameSpec::NAMESPACE,
            &["hostname"],
            &[("Hostname", "{.hostname}"), ("Domainname", "{.domainname}")],
            false,
        ),
        def(
            MemberSpec::TYPE,
            MemberSpec::NAMESPACE,
            &["members", "member"],
            &[
                ("Hostname", "{.hostname}"),
                ("Machine Type", "{.machineType}"),
                ("Addresses", "{.addresses}"),
            ],
            false,
        ),
        crate::network::definition(),
    ]
}

/// Registers [`definitions`] in `store`.
pub fn register(store: &Store) -> Result<(), StoreError> {
    definitions()
        .into_iter()
        .try_for_each(|d| store.register(d))
}

/// Publishes the machine status (resource only; the caller publishes the bus event).
pub fn publish_status(store: &Store, stage: &str, ready: bool) -> Result<(), StoreError> {
    let spec = MachineStatusSpec {
        stage: stage.to_string(),
        ready,
    };
    store.apply(
        OWNER,
        basalt_resources::Resource::from_spec(MACHINE_STATUS_ID, &spec)?,
    )?;
    Ok(())
}

/// Publishes the machine config resource.
pub fn publish_config(store: &Store, config: &MachineConfig) -> Result<(), StoreError> {
    let spec = match config.v1alpha1() {
        Some(doc) => serde_json::to_value(doc)
            .map_err(|e| StoreError::Spec(format!("cannot serialize the machine config: {e}")))?,
        None => serde_json::Value::Null,
    };
    let r = basalt_resources::Resource::new(
        MACHINE_CONFIG_NAMESPACE,
        MACHINE_CONFIG_TYPE,
        MACHINE_CONFIG_ID,
        spec,
    );
    store.apply(OWNER, r)?;
    Ok(())
}

/// The config's `machine.type` as printed in member resources.
pub fn machine_type(config: &MachineConfig) -> String {
    config
        .v1alpha1()
        .and_then(|c| MachineType::parse(&c.machine.machine_type))
        .map(|t| match t {
            MachineType::ControlPlane => "controlplane",
            MachineType::Worker => "worker",
        })
        .unwrap_or("unknown")
        .to_string()
}
