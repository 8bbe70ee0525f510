//! Resource definitions: type names, aliases, default namespace, printable columns.
//!
//! Definitions are themselves published as resources (namespace [`META_NAMESPACE`], type
//! [`DEFINITION_TYPE`], id = the defined type) so that API clients can resolve aliases.

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::resource::Resource;

/// Namespace of published definitions.
pub const META_NAMESPACE: &str = "meta";
/// Type of published definitions (the COSI name Talos clients look for).
pub const DEFINITION_TYPE: &str = "ResourceDefinitions.meta.cosi.dev";
/// Owner of published definitions.
pub const DEFINITION_OWNER: &str = "basalt-resources";

/// One printable column of a resource type (`basaltctl get` tables).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Column {
    /// Column header, e.g. `Running`.
    pub name: String,
    /// JSONPath into the spec, e.g. `{.running}`.
    pub json_path: String,
}

/// Describes one resource type. Its JSON form is the spec of the published definition resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDefinition {
    /// Full type name, `Plural.group`, e.g. `Services.v1alpha1.basalt.dev`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short names, e.g. `services`, `service`, `svc`.
    pub aliases: Vec<String>,
    /// Namespace used when a client names none, e.g. `runtime`.
    pub default_namespace: String,
    /// Printable columns.
    #[serde(rename = "printColumns")]
    pub columns: Vec<Column>,
    /// Whether specs hold secrets (clients must not print them by default).
    pub sensitive: bool,
}

impl Column {
    /// A column from a header and a JSONPath.
    pub fn new(name: impl Into<String>, json_path: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            json_path: json_path.into(),
        }
    }
}

impl ResourceDefinition {
    /// The definition of definitions, registered by every store.
    pub fn meta() -> Self {
        ResourceDefinition {
            type_: DEFINITION_TYPE.to_string(),
            aliases: vec!["resourcedefinition".into(), "rd".into(), "rds".into()],
            default_namespace: META_NAMESPACE.to_string(),
            columns: Vec::new(),
            sensitive: false,
        }
    }

    /// The type's first segment, lower-cased: `services` for `Services.v1alpha1.basalt.dev`.
    pub fn plural(&self) -> String {
        self.type_
            .split('.')
            .next()
            .unwrap_or_default()
            .to_lowercase()
    }

    /// Every name a client may use for this type, lower-cased: full type, plural, aliases.
    pub fn names(&self) -> Vec<String> {
        let mut names = vec![self.type_.to_lowercase(), self.plural()];
        names.extend(self.aliases.iter().map(|a| a.to_lowercase()));
        names.dedup();
        names
    }

    /// Whether `name` (case-insensitive) is the full type, the plural or an alias.
    pub fn matches(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.names().contains(&name)
    }

    /// Checks the shape: `Plural.group` type, non-empty namespace, non-empty aliases.
    pub fn validate(&self) -> Result<(), StoreError> {
        let t = &self.type_;
        let well_formed = t.split('.').count() >= 2
            && t.split('.').all(|s| !s.is_empty())
            && !t.contains(char::is_whitespace);
        if !well_formed {
            return Err(StoreError::Invalid(format!(
                "resource definition type `{t}` must look like `Plural.group` \
                 (e.g. `Services.v1alpha1.basalt.dev`)"
            )));
        }
        if self.default_namespace.is_empty() {
            return Err(StoreError::Invalid(format!(
                "resource definition `{t}` has an empty default namespace; set one (e.g. `runtime`)"
            )));
        }
        if let Some(alias) = self
            .aliases
            .iter()
            .find(|a| a.is_empty() || a.contains(char::is_whitespace))
        {
            return Err(StoreError::Invalid(format!(
                "resource definition `{t}` has an invalid alias `{alias}`; aliases are single words"
            )));
        }
        Ok(())
    }

    /// The definition as a resource in namespace `meta` (id = type), unowned yet.
    pub fn to_resource(&self) -> Result<Resource, StoreError> {
        let spec = serde_json::to_value(self).map_err(|err| {
            StoreError::Spec(format!(
                "cannot serialize the definition of {}: {err}",
                self.type_
            ))
        })?;
        Ok(Resource::new(
            META_NAMESPACE,
            DEFINITION_TYPE,
            self.type_.clone(),
            spec,
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn services() -> ResourceDefinition {
        ResourceDefinition {
            type_: "Services.v1alpha1.basalt.dev".into(),
            aliases: vec!["service".into(), "svc".into()],
            default_namespace: "runtime".into(),
            columns: vec![Column::new("Running", "{.running}")],
            sensitive: false,
        }
    }

    #[test]
    fn names_cover_type_plural_and_aliases() {
        let def = services();
        assert!(def.matches("Services.v1alpha1.basalt.dev"));
        assert!(def.matches("services.V1ALPHA1.basalt.dev"));
        assert!(def.matches("Services"));
        assert!(def.matches("SVC"));
        assert!(!def.matches("svcs"));
    }

    #[test]
    fn published_spec_uses_the_cosi_field_names() {
        let r = services().to_resource().unwrap();
        assert_eq!(r.metadata.namespace, "meta");
        assert_eq!(r.metadata.type_, DEFINITION_TYPE);
        assert_eq!(r.metadata.id, "Services.v1alpha1.basalt.dev");
        assert_eq!(r.spec["type"], "Services.v1alpha1.basalt.dev");
        assert_eq!(r.spec["defaultNamespace"], "runtime");
        assert_eq!(r.spec["printColumns"][0]["jsonPath"], "{.running}");
        assert_eq!(r.spec["sensitive"], false);
        let back: ResourceDefinition = serde_json::from_value(r.spec).unwrap();
        assert_eq!(back, services());
    }

    #[test]
    fn validation_rejects_malformed_definitions() {
        let mut def = services();
        def.type_ = "Services".into();
        assert!(def
            .validate()
            .unwrap_err()
            .to_string()
            .contains("Plural.group"));
        let mut def = services();
        def.default_namespace.clear();
        assert!(def.validate().is_err());
        let mut def = services();
        def.aliases.push("two words".into());
        assert!(def
            .validate()
            .unwrap_err()
            .to_string()
            .contains("two words"));
        assert!(ResourceDefinition::meta().validate().is_ok());
    }
}
