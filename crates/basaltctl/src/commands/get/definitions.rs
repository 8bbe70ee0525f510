//! Resolving the TYPE of `get TYPE` through the resource definitions machined serves
//! (namespace `meta`, type `ResourceDefinitions.meta.cosi.dev`), as COSI clients do.

use anyhow::bail;
use basalt_api::cosi::resource::meta::ResourceDefinitionSpec;
use basalt_api::cosi::resource::{ListRequest, Resource};
use basalt_api::cosi::{META_NAMESPACE, RESOURCE_DEFINITION_TYPE};
use prost::Message as _;

use crate::client::{status_error, Client};

/// A resource definition: its metadata id and its decoded spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// The id of the definition resource (COSI: the type name in lower case).
    pub id: String,
    /// The decoded `proto_spec`.
    pub spec: ResourceDefinitionSpec,
}

impl Definition {
    /// The type name the definition describes.
    pub fn type_name(&self) -> &str {
        if self.spec.resource_type.is_empty() {
            &self.id
        } else {
            &self.spec.resource_type
        }
    }

    /// The name shown in the TYPE column: the display type, else the type name.
    pub fn display(&self) -> &str {
        if self.spec.display_type.is_empty() {
            self.type_name()
        } else {
            &self.spec.display_type
        }
    }

    /// Whether `name` names this type (case-insensitive: id, type, alias).
    fn matches(&self, name: &str) -> bool {
        std::iter::once(self.id.as_str())
            .chain(std::iter::once(self.spec.resource_type.as_str()))
            .chain(self.spec.all_aliases.iter().map(String::as_str))
            .chain(self.spec.aliases.iter().map(String::as_str))
            .any(|candidate| !candidate.is_empty() && candidate.eq_ignore_ascii_case(name))
    }
}

/// Decodes one definition resource; `None` when its spec cannot be decoded.
pub fn decode(resource: &Resource) -> Option<Definition> {
    let id = resource.metadata.as_ref()?.id.clone();
    let spec = resource.spec.as_ref()?;
    let spec = ResourceDefinitionSpec::decode(spec.proto_spec.as_slice()).ok()?;
    Some(Definition { id, spec })
}

/// Lists every resource definition the node serves.
pub async fn fetch(client: &mut Client) -> anyhow::Result<Vec<Definition>> {
    let what = "cannot list resource definitions";
    let request = ListRequest {
        namespace: META_NAMESPACE.into(),
        r#type: RESOURCE_DEFINITION_TYPE.into(),
        options: None,
    };
    let mut stream = client
        .state
        .list(request)
        .await
        .map_err(|s| status_error(what, &s))?
        .into_inner();
    let mut definitions = Vec::new();
    while let Some(item) = stream.message().await.map_err(|s| status_error(what, &s))? {
        if let Some(definition) = item.resource.as_ref().and_then(decode) {
            definitions.push(definition);
        }
    }
    Ok(definitions)
}

/// Finds the definition `name` refers to, or fails listing the known types.
pub fn resolve<'a>(definitions: &'a [Definition], name: &str) -> anyhow::Result<&'a Definition> {
    if let Some(definition) = definitions.iter().find(|d| d.matches(name)) {
        return Ok(definition);
    }
    let mut known: Vec<String> = definitions
        .iter()
        .map(|d| match d.spec.aliases.as_slice() {
            [] => d.type_name().to_string(),
            aliases => format!("{} ({})", d.type_name(), aliases.join(", ")),
        })
        .collect();
    known.sort();
    if known.is_empty() {
        bail!("unknown resource type {name:?}: the node serves no resource definitions");
    }
    bail!(
        "unknown resource type {name:?}; known types: {}",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use basalt_api::cosi::resource::{Metadata, Spec};

    use super::*;

    fn definition(type_: &str, aliases: &[&str]) -> Definition {
        let plural = type_.split('.').next().unwrap().to_lowercase();
        let mut all: Vec<String> = vec![plural];
        all.extend(aliases.iter().map(|a| a.to_string()));
        Definition {
            id: type_.to_lowercase(),
            spec: ResourceDefinitionSpec {
                resource_type: type_.into(),
                display_type: "Service".into(),
                default_namespace: "runtime".into(),
                aliases: aliases.iter().map(|a| a.to_string()).collect(),
                all_aliases: all,
                ..Default::default()
            },
        }
    }

    #[test]
    fn resolves_type_plural_and_aliases_case_insensitively() {
        let defs = vec![
            definition("Members.cluster.basalt.dev", &["member"]),
            definition("Services.v1alpha1.basalt.dev", &["service", "svc"]),
        ];
        for name in [
            "svc",
            "SVC",
            "services",
            "Service",
            "services.v1alpha1.basalt.dev",
        ] {
            assert_eq!(
                resolve(&defs, name).unwrap().type_name(),
                "Services.v1alpha1.basalt.dev",
                "{name}"
            );
        }
        assert_eq!(
            resolve(&defs, "members").unwrap().type_name(),
            "Members.cluster.basalt.dev"
        );
    }

    #[test]
    fn unresolved_type_lists_known_types() {
        let defs = vec![
            definition("Services.v1alpha1.basalt.dev", &["service", "svc"]),
            definition("Members.cluster.basalt.dev", &[]),
        ];
        let err = resolve(&defs, "pods").unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown resource type \"pods\"; known types: Members.cluster.basalt.dev, \
             Services.v1alpha1.basalt.dev (service, svc)"
        );
        assert!(resolve(&[], "svc")
            .unwrap_err()
            .to_string()
            .contains("no resource definitions"));
    }

    #[test]
    fn decodes_proto_spec_and_skips_garbage() {
        let spec = definition("Services.v1alpha1.basalt.dev", &["svc"]).spec;
        let resource = Resource {
            metadata: Some(Metadata {
                id: "services.v1alpha1.basalt.dev".into(),
                ..Default::default()
            }),
            spec: Some(Spec {
                proto_spec: spec.encode_to_vec(),
                yaml_spec: String::new(),
            }),
        };
        let decoded = decode(&resource).unwrap();
        assert_eq!(decoded.spec, spec);
        assert_eq!(decoded.display(), "Service");
        let garbage = Resource {
            spec: Some(Spec {
                proto_spec: vec![0xff, 0xff, 0xff],
                yaml_spec: String::new(),
            }),
            ..resource
        };
        assert!(decode(&garbage).is_none());
    }
}
