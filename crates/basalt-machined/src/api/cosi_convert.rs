//! Resources on the COSI wire: our [`Resource`] ↔ `cosi.resource.Resource`, resource
//! definitions as `ResourceDefinitionSpec`, and label queries.
//!
//! Every resource carries `yaml_spec` (clients print it and evaluate print columns on it);
//! resource definitions also carry `proto_spec`, which clients decode to resolve `get NAME`
//! (see the notes at the top of `api/cosi/state.proto`).

use basalt_api::cosi::resource as pb;
use basalt_api::cosi::resource::meta::resource_definition_spec::{PrintColumn, Sensitivity};
use basalt_api::cosi::resource::meta::ResourceDefinitionSpec;
use basalt_api::cosi::{PHASE_RUNNING, PHASE_TEARING_DOWN};
use basalt_resources::{Phase, Resource, ResourceDefinition, DEFINITION_TYPE};
use prost::Message;
use serde_json::json;

/// `resource` on the wire.
pub fn resource_to_proto(resource: &Resource) -> pb::Resource {
    let spec = match definition_of(resource) {
        Some(def) => definition_spec(&def),
        None => pb::Spec {
            proto_spec: Vec::new(),
            yaml_spec: resource.spec_yaml(),
        },
    };
    pb::Resource {
        metadata: Some(metadata_to_proto(resource)),
        spec: Some(spec),
    }
}

/// Only the metadata of `resource` (a DESTROYED event for a resource that does not exist).
pub fn metadata_only(resource: &Resource) -> pb::Resource {
    pb::Resource {
        metadata: Some(metadata_to_proto(resource)),
        spec: None,
    }
}

fn metadata_to_proto(resource: &Resource) -> pb::Metadata {
    let m = &resource.metadata;
    pb::Metadata {
        namespace: m.namespace.clone(),
        r#type: m.type_.clone(),
        id: m.id.clone(),
        version: m.version.to_string(),
        owner: m.owner.clone(),
        phase: match m.phase {
            Phase::Running => PHASE_RUNNING,
            Phase::TearingDown => PHASE_TEARING_DOWN,
        }
        .to_string(),
        created: Some(m.created.into()),
        updated: Some(m.updated.into()),
        finalizers: Vec::new(),
        annotations: Default::default(),
        labels: m.labels.clone(),
    }
}

/// The definition published by `resource`, if it is a resource definition.
fn definition_of(resource: &Resource) -> Option<ResourceDefinition> {
    if resource.metadata.type_ != DEFINITION_TYPE {
        return None;
    }
    serde_json::from_value(resource.spec.clone()).ok()
}

/// The singular display name of a type: `Services.v1alpha1.basalt.dev` → `Service`,
/// `MachineStatuses...` → `MachineStatus`.
pub fn display_type(type_: &str) -> String {
    let plural = type_.split('.').next().unwrap_or(type_);
    let singular = if plural.ends_with("uses") || plural.ends_with("sses") {
        &plural[..plural.len() - 2]
    } else if let Some(stripped) = plural.strip_suffix('s') {
        stripped
    } else {
        plural
    };
    singular.to_string()
}

/// Every name a client may resolve the type by, lower case: the plural, the plural with
/// each further segment of the type (up to the full type), the singular and the aliases.
pub fn all_aliases(def: &ResourceDefinition) -> Vec<String> {
    let lower = def.type_.to_lowercase();
    let parts: Vec<&str> = lower.split('.').collect();
    let mut names: Vec<String> = (1..=parts.len()).map(|n| parts[..n].join(".")).collect();
    names.push(display_type(&def.type_).to_lowercase());
    names.extend(def.aliases.iter().map(|a| a.to_lowercase()));
    let mut unique = Vec::new();
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    unique
}

/// A definition's spec: `proto_spec` for clients resolving types, `yaml_spec` for humans.
fn definition_spec(def: &ResourceDefinition) -> pb::Spec {
    let proto = ResourceDefinitionSpec {
        resource_type: def.type_.clone(),
        display_type: display_type(&def.type_),
        default_namespace: def.default_namespace.clone(),
        aliases: def.aliases.clone(),
        all_aliases: all_aliases(def),
        print_columns: def
            .columns
            .iter()
            .map(|c| PrintColumn {
                name: c.name.clone(),
                json_path: c.json_path.clone(),
            })
            .collect(),
        sensitivity: if def.sensitive {
            Sensitivity::Sensitive
        } else {
            Sensitivity::NonSensitive
        } as i32,
    };
    let mut yaml = json!({
        "type": proto.resource_type,
        "displayType": proto.display_type,
        "defaultNamespace": proto.default_namespace,
        "aliases": proto.aliases,
        "allAliases": proto.all_aliases,
        "printColumns": def.columns.iter()
            .map(|c| json!({"name": c.name, "jsonPath": c.json_path}))
            .collect::<Vec<_>>(),
    });
    if def.sensitive {
        yaml["sensitivity"] = json!("sensitive");
    }
    pb::Spec {
        proto_spec: proto.encode_to_vec(),
        yaml_spec: serde_yaml::to_string(&yaml).unwrap_or_else(|_| yaml.to_string()),
    }
}

/// Whether `resource` matches at least one of `queries` (every term of a query must hold);
/// no queries match everything.
pub fn matches_labels(resource: &Resource, queries: &[pb::LabelQuery]) -> bool {
    queries.is_empty()
        || queries
            .iter()
            .any(|q| q.terms.iter().all(|t| term_holds(resource, t)))
}

fn term_holds(resource: &Resource, term: &pb::LabelTerm) -> bool {
    use pb::label_term::Operation;
    let value = resource.metadata.labels.get(&term.key);
    let first = term.value.first();
    let numeric = |v: &String, f: fn(i64, i64) -> bool| match (v.parse(), first.map(|f| f.parse()))
    {
        (Ok(a), Some(Ok(b))) => f(a, b),
        _ => false,
    };
    let holds = match Operation::try_from(term.op) {
        Ok(Operation::Exists) => value.is_some(),
        Ok(Operation::NotExists) => value.is_none(),
        Ok(Operation::Equal) => value.is_some() && value == first,
        Ok(Operation::In) => value.is_some_and(|v| term.value.contains(v)),
        Ok(Operation::Lt) => value.zip(first).is_some_and(|(v, f)| v < f),
        Ok(Operation::Lte) => value.zip(first).is_some_and(|(v, f)| v <= f),
        Ok(Operation::LtNumeric) => value.is_some_and(|v| numeric(v, |a, b| a < b)),
        Ok(Operation::LteNumeric) => value.is_some_and(|v| numeric(v, |a, b| a <= b)),
        Err(_) => false,
    };
    holds != term.invert
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use basalt_resources::Column;

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
    fn definitions_carry_a_decodable_proto_spec() {
        let r = services().to_resource().unwrap();
        let wire = resource_to_proto(&r);
        let spec = wire.spec.unwrap();
        let decoded = ResourceDefinitionSpec::decode(spec.proto_spec.as_slice()).unwrap();
        assert_eq!(decoded.resource_type, "Services.v1alpha1.basalt.dev");
        assert_eq!(decoded.display_type, "Service");
        assert_eq!(decoded.default_namespace, "runtime");
        assert!(decoded.all_aliases.contains(&"svc".to_string()));
        assert!(decoded.all_aliases.contains(&"services".to_string()));
        assert_eq!(decoded.print_columns[0].json_path, "{.running}");
        assert!(spec.yaml_spec.contains("defaultNamespace: runtime"));
        assert!(!spec.yaml_spec.contains("sensitivity"));
    }

    #[test]
    fn display_types_are_singular() {
        assert_eq!(
            display_type("MachineStatuses.runtime.basalt.dev"),
            "MachineStatus"
        );
        assert_eq!(display_type("Members.cluster.basalt.dev"), "Member");
        assert_eq!(
            display_type("ResourceDefinitions.meta.cosi.dev"),
            "ResourceDefinition"
        );
    }

    #[test]
    fn label_queries() {
        let mut r = Resource::new("ns", "Things.test", "a", json!({}));
        r.metadata.labels.insert("tier".into(), "3".into());
        let term = |op: pb::label_term::Operation, v: &[&str], invert| pb::LabelTerm {
            key: "tier".into(),
            op: op as i32,
            value: v.iter().map(|s| s.to_string()).collect(),
            invert,
        };
        use pb::label_term::Operation as Op;
        let q = |t| vec![pb::LabelQuery { terms: vec![t] }];
        assert!(matches_labels(&r, &[]));
        assert!(matches_labels(&r, &q(term(Op::Equal, &["3"], false))));
        assert!(!matches_labels(&r, &q(term(Op::Equal, &["3"], true))));
        assert!(matches_labels(&r, &q(term(Op::In, &["1", "3"], false))));
        assert!(matches_labels(&r, &q(term(Op::LtNumeric, &["10"], false))));
        assert!(!matches_labels(&r, &q(term(Op::Lt, &["10"], false))));
        assert!(!matches_labels(&r, &q(term(Op::NotExists, &[], false))));
    }
}
