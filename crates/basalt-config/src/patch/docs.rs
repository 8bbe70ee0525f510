//! Multi-document YAML streams: parsing, rendering and document identity.
//!
//! A machine config is a stream of YAML documents: one `v1alpha1` document (it has
//! `version: v1alpha1` and no `kind`) plus documents identified by `kind` and, when they
//! have one, `name`.

use std::fmt;

use serde::Deserialize;
use serde_yaml::Value;

use super::PatchError;

/// Parses a YAML stream into its documents, skipping empty ones (`---` with nothing after it).
pub fn parse_stream(text: &str) -> Result<Vec<Value>, PatchError> {
    parse_stream_from(text, "YAML input")
}

/// Like [`parse_stream`], naming `origin` in errors.
pub(crate) fn parse_stream_from(text: &str, origin: &str) -> Result<Vec<Value>, PatchError> {
    let mut docs = Vec::new();
    for (i, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let doc = Value::deserialize(de).map_err(|e| PatchError::Yaml {
            origin: origin.to_string(),
            reason: format!("document {}: {e}", i + 1),
        })?;
        if !doc.is_null() {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// Renders documents as one YAML stream, separated by `---` lines.
pub fn render_stream(docs: &[Value]) -> Result<String, PatchError> {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let text = serde_yaml::to_string(doc).map_err(|e| PatchError::Render {
            reason: format!("document {}: {e}", i + 1),
        })?;
        out.push_str(&text);
    }
    Ok(out)
}

/// The identity of a config document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DocId {
    /// The `v1alpha1` document (no `kind`).
    V1Alpha1,
    /// A document with a `kind` and, optionally, a `name`.
    Kind {
        /// The `kind` field.
        kind: String,
        /// The `name` field, when present.
        name: Option<String>,
    },
}

impl DocId {
    /// The identity of `doc`: a document without `kind` is the `v1alpha1` document.
    pub(crate) fn of(doc: &Value) -> DocId {
        match doc.get("kind").map(scalar_text) {
            None => DocId::V1Alpha1,
            Some(kind) => DocId::Kind {
                kind,
                name: doc.get("name").map(scalar_text),
            },
        }
    }

    /// The `kind` (or `v1alpha1`), used to look up merge rules.
    pub(crate) fn kind(&self) -> &str {
        match self {
            DocId::V1Alpha1 => "v1alpha1",
            DocId::Kind { kind, .. } => kind,
        }
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocId::V1Alpha1 => f.write_str("v1alpha1"),
            DocId::Kind { kind, name: None } => f.write_str(kind),
            DocId::Kind {
                kind,
                name: Some(name),
            } => write!(f, "{kind}/{name}"),
        }
    }
}

/// Which document of a multi-document config an RFC 6902 operation addresses
/// (the extra `document` member of an operation).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DocSelector {
    /// No `document` member: the `v1alpha1` document, or the only document.
    #[default]
    Default,
    /// `document: v1alpha1`.
    V1Alpha1,
    /// `document: Kind` (must be unambiguous) or `document: Kind/name`.
    Kind {
        /// The document's `kind`.
        kind: String,
        /// The document's `name`, when given.
        name: Option<String>,
    },
    /// `document: 2`: the 0-based position in the stream.
    Index(usize),
}

impl DocSelector {
    /// Parses the text form: `v1alpha1`, `Kind` or `Kind/name`.
    pub fn parse(text: &str) -> DocSelector {
        if text == "v1alpha1" {
            return DocSelector::V1Alpha1;
        }
        match text.split_once('/') {
            Some((kind, name)) => DocSelector::Kind {
                kind: kind.to_string(),
                name: Some(name.to_string()),
            },
            None => DocSelector::Kind {
                kind: text.to_string(),
                name: None,
            },
        }
    }

    /// Finds the index of the selected document, or says why there is none.
    pub(crate) fn select(&self, docs: &[Value]) -> Result<usize, String> {
        let ids: Vec<DocId> = docs.iter().map(DocId::of).collect();
        let found: Vec<usize> = match self {
            DocSelector::Index(i) if *i < docs.len() => vec![*i],
            DocSelector::Index(i) => {
                return Err(format!(
                    "document {i} does not exist: the config has {} documents ({}), counted from 0",
                    docs.len(),
                    list_ids(&ids)
                ))
            }
            DocSelector::Default if docs.len() == 1 => vec![0],
            DocSelector::Default | DocSelector::V1Alpha1 => {
                positions(&ids, |id| *id == DocId::V1Alpha1)
            }
            DocSelector::Kind { kind, name } => positions(&ids, |id| match id {
                DocId::Kind { kind: k, name: n } => k == kind && (name.is_none() || n == name),
                DocId::V1Alpha1 => false,
            }),
        };
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!(
                "{} not found; the config has: {}; set the operation's `document` member",
                self.describe(),
                list_ids(&ids)
            )),
            _ => Err(format!(
                "{} is ambiguous; the config has: {}; use `document: Kind/name` or an index",
                self.describe(),
                list_ids(&ids)
            )),
        }
    }

    fn describe(&self) -> String {
        match self {
            DocSelector::Default | DocSelector::V1Alpha1 => "the v1alpha1 document".to_string(),
            DocSelector::Kind { kind, name: None } => format!("document {kind:?}"),
            DocSelector::Kind {
                kind,
                name: Some(name),
            } => format!("document \"{kind}/{name}\""),
            DocSelector::Index(i) => format!("document {i}"),
        }
    }
}

fn positions(ids: &[DocId], wanted: impl Fn(&DocId) -> bool) -> Vec<usize> {
    (0..ids.len()).filter(|i| wanted(&ids[*i])).collect()
}

fn list_ids(ids: &[DocId]) -> String {
    if ids.is_empty() {
        return "no documents".to_string();
    }
    let names: Vec<String> = ids.iter().map(ToString::to_string).collect();
    names.join(", ")
}

/// A scalar as plain text (strings without quotes); other values as compact YAML.
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => "null".to_string(),
        other => super::show(other),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const STREAM: &str = "version: v1alpha1\nmachine: {type: worker}\n---\n---\napiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: foo\n---\napiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: bar\n";

    #[test]
    fn parse_skips_empty_documents_and_render_round_trips() {
        let docs = parse_stream(STREAM).unwrap();
        assert_eq!(docs.len(), 3);
        let text = render_stream(&docs).unwrap();
        assert_eq!(text.matches("---\n").count(), 2);
        assert_eq!(parse_stream(&text).unwrap(), docs);
    }

    #[test]
    fn parse_error_names_origin_and_document() {
        let err = parse_stream_from("a: 1\n---\nb: [1,\n", "@x.yaml").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("@x.yaml: invalid YAML: document 2"),
            "{text}"
        );
        assert!(text.contains("line"), "{text}");
    }

    #[test]
    fn identities() {
        let docs = parse_stream(STREAM).unwrap();
        assert_eq!(DocId::of(&docs[0]), DocId::V1Alpha1);
        assert_eq!(
            DocId::of(&docs[2]).to_string(),
            "ExtensionServiceConfig/bar"
        );
    }

    #[test]
    fn selectors() {
        let docs = parse_stream(STREAM).unwrap();
        assert_eq!(DocSelector::Default.select(&docs), Ok(0));
        assert_eq!(DocSelector::parse("v1alpha1").select(&docs), Ok(0));
        assert_eq!(
            DocSelector::parse("ExtensionServiceConfig/bar").select(&docs),
            Ok(2)
        );
        assert_eq!(DocSelector::Index(1).select(&docs), Ok(1));
        let ambiguous = DocSelector::parse("ExtensionServiceConfig")
            .select(&docs)
            .unwrap_err();
        assert!(ambiguous.contains("ambiguous"), "{ambiguous}");
        let missing = DocSelector::parse("Nope/x").select(&docs).unwrap_err();
        assert!(
            missing.contains("not found") && missing.contains("ExtensionServiceConfig/foo"),
            "{missing}"
        );
        let out = DocSelector::Index(3).select(&docs).unwrap_err();
        assert!(out.contains("has 3 documents"), "{out}");
    }

    #[test]
    fn only_document_is_default_even_without_v1alpha1() {
        let docs = parse_stream("kind: A\nname: x\n").unwrap();
        assert_eq!(DocSelector::Default.select(&docs), Ok(0));
    }
}
