//! Resources: metadata plus a JSON spec, and the [`Spec`] trait for typed specs.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// Per-resource version: 1 on create, +1 on every change.
pub type Version = u64;

/// Lifecycle phase of a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// The resource is in use.
    Running,
    /// Its owner is taking it down; it will be destroyed.
    TearingDown,
}

/// Identity and bookkeeping of a resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Namespace, e.g. `runtime`.
    pub namespace: String,
    /// Full type name, e.g. `Services.v1alpha1.basalt.dev`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Id, unique within namespace and type.
    pub id: String,
    /// Version (0 for a resource that was never stored).
    pub version: Version,
    /// Lifecycle phase.
    pub phase: Phase,
    /// Owner: the name of the controller that wrote it, or "" for the user.
    pub owner: String,
    /// Free-form labels.
    pub labels: BTreeMap<String, String>,
    /// When the resource was created.
    pub created: SystemTime,
    /// When the resource last changed.
    pub updated: SystemTime,
}

/// A resource: metadata and an untyped spec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// Identity and bookkeeping.
    pub metadata: Metadata,
    /// The spec, as JSON.
    pub spec: serde_json::Value,
}

/// A typed spec bound to one resource type and its default namespace.
pub trait Spec: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Full type name, e.g. `Services.v1alpha1.basalt.dev`.
    const TYPE: &'static str;
    /// Namespace resources of this type live in, e.g. `runtime`.
    const NAMESPACE: &'static str;
}

impl Resource {
    /// A new, never stored resource (version 0, phase running, owner "", no labels).
    pub fn new(
        namespace: impl Into<String>,
        type_: impl Into<String>,
        id: impl Into<String>,
        spec: serde_json::Value,
    ) -> Self {
        let now = SystemTime::now();
        Resource {
            metadata: Metadata {
                namespace: namespace.into(),
                type_: type_.into(),
                id: id.into(),
                version: 0,
                phase: Phase::Running,
                owner: String::new(),
                labels: BTreeMap::new(),
                created: now,
                updated: now,
            },
            spec,
        }
    }

    /// A new resource of `S`'s type and namespace with `spec` serialized to JSON.
    pub fn from_spec<S: Spec>(id: impl Into<String>, spec: &S) -> Result<Self, StoreError> {
        let id = id.into();
        let value = serde_json::to_value(spec).map_err(|err| {
            StoreError::Spec(format!(
                "cannot serialize the spec of {}/{}/{id}: {err}",
                S::NAMESPACE,
                S::TYPE
            ))
        })?;
        Ok(Resource::new(S::NAMESPACE, S::TYPE, id, value))
    }

    /// The spec decoded as `S`; fails if the resource is of another type or the spec does
    /// not match `S`.
    pub fn spec_as<S: Spec>(&self) -> Result<S, StoreError> {
        let m = &self.metadata;
        if m.type_ != S::TYPE {
            return Err(StoreError::Spec(format!(
                "resource {}/{}/{} is not of type {}",
                m.namespace,
                m.type_,
                m.id,
                S::TYPE
            )));
        }
        serde_json::from_value(self.spec.clone()).map_err(|err| {
            StoreError::Spec(format!(
                "the spec of {}/{}/{} does not decode as {}: {err}",
                m.namespace,
                m.type_,
                m.id,
                std::any::type_name::<S>()
            ))
        })
    }

    /// The spec as YAML (for `-o yaml` output); falls back to JSON if YAML fails.
    pub fn spec_yaml(&self) -> String {
        serde_yaml::to_string(&self.spec).unwrap_or_else(|_| self.spec.to_string())
    }

    /// `namespace/type/id`, for messages.
    pub fn key(&self) -> String {
        let m = &self.metadata;
        format!("{}/{}/{}", m.namespace, m.type_, m.id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Host {
        hostname: String,
    }
    impl Spec for Host {
        const TYPE: &'static str = "Hostnames.net.basalt.dev";
        const NAMESPACE: &'static str = "network";
    }

    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct Other {
        hostname: String,
    }
    impl Spec for Other {
        const TYPE: &'static str = "Others.test.basalt.dev";
        const NAMESPACE: &'static str = "network";
    }

    #[test]
    fn typed_spec_round_trips() {
        let spec = Host {
            hostname: "node-1".into(),
        };
        let r = Resource::from_spec("hostname", &spec).unwrap();
        assert_eq!(r.metadata.namespace, "network");
        assert_eq!(r.metadata.type_, "Hostnames.net.basalt.dev");
        assert_eq!(r.metadata.version, 0);
        assert_eq!(r.spec_as::<Host>().unwrap(), spec);
        assert_eq!(r.spec_yaml(), "hostname: node-1\n");
        let err = r.spec_as::<Other>().unwrap_err();
        assert!(err.to_string().contains("is not of type Others"), "{err}");
    }

    #[test]
    fn spec_mismatch_names_the_resource() {
        let r = Resource::new(
            "network",
            "Hostnames.net.basalt.dev",
            "hostname",
            serde_json::json!({"name": 1}),
        );
        let err = r.spec_as::<Host>().unwrap_err().to_string();
        assert!(
            err.contains("network/Hostnames.net.basalt.dev/hostname"),
            "{err}"
        );
        assert!(err.contains("hostname"), "{err}");
    }
}
