//! The `Services.v1alpha1.basalt.dev` resource the supervisor keeps up to date.

use basalt_resources::{Column, Resource, ResourceDefinition, Spec};
use serde::{Deserialize, Serialize};

/// Full type of service resources.
pub const SERVICES_TYPE: &str = "Services.v1alpha1.basalt.dev";
/// Namespace of service resources.
pub const SERVICES_NAMESPACE: &str = "runtime";
/// Owner of service resources.
pub const SUPERVISOR_OWNER: &str = "supervisor";

/// Spec of a service resource (Talos `ServiceSpec`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceResourceSpec {
    /// The process runs.
    pub running: bool,
    /// It runs and its health check passes (or it has none).
    pub healthy: bool,
    /// No health check result yet.
    pub unknown: bool,
}

impl Spec for ServiceResourceSpec {
    const TYPE: &'static str = SERVICES_TYPE;
    const NAMESPACE: &'static str = SERVICES_NAMESPACE;
}

/// The definition of service resources (aliases `services`, `service`, `svc`).
pub fn services_definition() -> ResourceDefinition {
    ResourceDefinition {
        type_: SERVICES_TYPE.into(),
        aliases: vec!["services".into(), "service".into(), "svc".into()],
        default_namespace: SERVICES_NAMESPACE.into(),
        columns: vec![
            Column::new("Running", "{.running}"),
            Column::new("Healthy", "{.healthy}"),
            Column::new("Health Unknown", "{.unknown}"),
        ],
        sensitive: false,
    }
}

/// The resource for service `id` with `spec`.
pub(super) fn service_resource(id: &str, spec: ServiceResourceSpec) -> Resource {
    let value = serde_json::json!({
        "running": spec.running,
        "healthy": spec.healthy,
        "unknown": spec.unknown,
    });
    Resource::new(SERVICES_NAMESPACE, SERVICES_TYPE, id, value)
}
