//! How `get` shows a resource: a table row (NAMESPACE TYPE ID VERSION + the
//! definition's print columns), or a document `{node, metadata, spec}` for
//! `-o yaml` / `-o json`, as talosctl does.

use basalt_api::cosi::resource::Resource;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::definitions::Definition;
use super::jsonpath;
use crate::output::OutputFormat;

/// The headers of the table: NAMESPACE TYPE ID VERSION, then the print columns.
pub fn headers(definition: &Definition) -> Vec<String> {
    let mut headers: Vec<String> = ["namespace", "type", "id", "version"]
        .iter()
        .map(|h| h.to_string())
        .collect();
    headers.extend(definition.spec.print_columns.iter().map(|c| c.name.clone()));
    headers
}

/// The cells of one resource's table row.
pub fn row(definition: &Definition, resource: &Resource) -> Vec<String> {
    let metadata = resource.metadata.clone().unwrap_or_default();
    let spec = spec_value(resource);
    let mut cells = vec![
        metadata.namespace,
        definition.display().to_string(),
        metadata.id,
        metadata.version,
    ];
    cells.extend(
        definition
            .spec
            .print_columns
            .iter()
            .map(|column| jsonpath::evaluate(&column.json_path, &spec)),
    );
    cells
}

/// The spec, parsed from `yaml_spec` (null when empty; the raw text when it is not YAML).
pub fn spec_value(resource: &Resource) -> Value {
    let yaml = resource
        .spec
        .as_ref()
        .map(|s| s.yaml_spec.as_str())
        .unwrap_or("");
    if yaml.trim().is_empty() {
        return Value::Null;
    }
    serde_yaml::from_str(yaml).unwrap_or_else(|_| Value::String(yaml.to_string()))
}

/// The document of `-o yaml|json`: `event` (watch only), `node`, `metadata`, `spec`.
pub fn document(node: &str, resource: &Resource, event: Option<&str>) -> Value {
    let m = resource.metadata.clone().unwrap_or_default();
    let mut metadata = Map::new();
    metadata.insert("namespace".into(), json!(m.namespace));
    metadata.insert("type".into(), json!(m.r#type));
    metadata.insert("id".into(), json!(m.id));
    let version = m.version.parse::<u64>().map(Value::from);
    metadata.insert("version".into(), version.unwrap_or(json!(m.version)));
    metadata.insert("owner".into(), json!(m.owner));
    metadata.insert("phase".into(), json!(m.phase));
    if let Some(created) = &m.created {
        metadata.insert("created".into(), json!(rfc3339(created)));
    }
    if let Some(updated) = &m.updated {
        metadata.insert("updated".into(), json!(rfc3339(updated)));
    }
    if !m.labels.is_empty() {
        let labels: std::collections::BTreeMap<_, _> = m.labels.into_iter().collect();
        metadata.insert("labels".into(), json!(labels));
    }
    if !m.finalizers.is_empty() {
        metadata.insert("finalizers".into(), json!(m.finalizers));
    }
    let mut doc = Map::new();
    if let Some(event) = event {
        doc.insert("event".into(), json!(event));
    }
    doc.insert("node".into(), json!(node));
    doc.insert("metadata".into(), Value::Object(metadata));
    doc.insert("spec".into(), spec_value(resource));
    Value::Object(doc)
}

/// The text of one document in `format` (YAML documents after the first start with `---`).
pub fn document_text(format: OutputFormat, doc: &Value, first: bool) -> anyhow::Result<String> {
    Ok(match format {
        OutputFormat::Yaml => {
            let text = serde_yaml::to_string(doc)?;
            if first {
                text
            } else {
                format!("---\n{text}")
            }
        }
        OutputFormat::Json | OutputFormat::Table => serde_json::to_string_pretty(doc)? + "\n",
    })
}

/// A timestamp as RFC 3339 in UTC, e.g. `2025-01-02T03:04:05Z`.
fn rfc3339(ts: &prost_types::Timestamp) -> String {
    let nanos = i128::from(ts.seconds) * 1_000_000_000 + i128::from(ts.nanos);
    match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => format!("{}s since the epoch", ts.seconds),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use basalt_api::cosi::resource::meta::resource_definition_spec::PrintColumn;
    use basalt_api::cosi::resource::meta::ResourceDefinitionSpec;
    use basalt_api::cosi::resource::{Metadata, Spec};

    use super::*;

    fn services_definition() -> Definition {
        let column = |name: &str, path: &str| PrintColumn {
            name: name.into(),
            json_path: path.into(),
        };
        Definition {
            id: "services.v1alpha1.basalt.dev".into(),
            spec: ResourceDefinitionSpec {
                resource_type: "Services.v1alpha1.basalt.dev".into(),
                display_type: "Service".into(),
                print_columns: vec![
                    column("Running", "{.running}"),
                    column("Healthy", "{.healthy}"),
                    column("Health Unknown", "{.unknown}"),
                ],
                ..Default::default()
            },
        }
    }

    fn web() -> Resource {
        Resource {
            metadata: Some(Metadata {
                namespace: "runtime".into(),
                r#type: "Services.v1alpha1.basalt.dev".into(),
                id: "web".into(),
                version: "3".into(),
                owner: "supervisor".into(),
                phase: "running".into(),
                created: Some(prost_types::Timestamp {
                    seconds: 1_735_787_045,
                    nanos: 0,
                }),
                ..Default::default()
            }),
            spec: Some(Spec {
                proto_spec: vec![],
                yaml_spec: "running: true\nhealthy: false\nunknown: true\n".into(),
            }),
        }
    }

    #[test]
    fn table_row_has_display_type_version_and_print_columns() {
        let def = services_definition();
        assert_eq!(
            headers(&def),
            [
                "namespace",
                "type",
                "id",
                "version",
                "Running",
                "Healthy",
                "Health Unknown"
            ]
        );
        assert_eq!(
            row(&def, &web()),
            ["runtime", "Service", "web", "3", "true", "false", "true"]
        );
    }

    #[test]
    fn yaml_document_has_node_metadata_and_spec() {
        let doc = document("node1", &web(), None);
        let text = document_text(OutputFormat::Yaml, &doc, true).unwrap();
        assert_eq!(
            text,
            "node: node1\nmetadata:\n  namespace: runtime\n  type: Services.v1alpha1.basalt.dev\n  \
             id: web\n  version: 3\n  owner: supervisor\n  phase: running\n  \
             created: 2025-01-02T03:04:05Z\nspec:\n  running: true\n  healthy: false\n  unknown: true\n"
        );
        let second = document_text(OutputFormat::Yaml, &doc, false).unwrap();
        assert!(second.starts_with("---\nnode: node1\n"));
    }

    #[test]
    fn json_document_is_one_object_with_the_event_when_watching() {
        let doc = document("node1", &web(), Some("updated"));
        let text = document_text(OutputFormat::Json, &doc, true).unwrap();
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["event"], "updated");
        assert_eq!(parsed["metadata"]["version"], 3);
        assert_eq!(parsed["spec"]["running"], true);
    }

    #[test]
    fn unparsable_or_empty_yaml_spec_does_not_fail() {
        let mut resource = web();
        resource.spec = Some(Spec {
            proto_spec: vec![],
            yaml_spec: "a: [unclosed".into(),
        });
        assert_eq!(spec_value(&resource), json!("a: [unclosed"));
        resource.spec = None;
        assert_eq!(spec_value(&resource), Value::Null);
        assert_eq!(row(&services_definition(), &resource)[4], "");
    }
}
