//! Strict decoding of a machine config YAML stream into typed documents.
//!
//! Pipeline: yaml-rust2 events → [`tree::Node`] tree with lines → per-document
//! [`LineIndex`] → serde (through `serde_path_to_error`) into the typed model. Every error
//! names the document, the line and the field path.

mod de;
mod error;
mod lines;
mod scalar;
mod tree;
pub mod unsupported;

use serde::de::DeserializeOwned;

pub use error::{DecodeError, Located};
pub use lines::{display_path, push_index, push_key, LineIndex};

pub(crate) use scalar::parse_int;

use crate::document::Document;
use crate::kinds::{self, SUPPORTED_KINDS, UNSUPPORTED_KINDS};
use de::{DeError, NodeDe};
use tree::{Node, NodeKind};

/// Largest accepted machine config (4 MiB).
pub const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;

/// Raw U+0085, U+2028 and U+2029 are line breaks for YAML 1.1 readers (Go's yaml, which Talos
/// uses, and the writer behind `to_yaml`) but not for YAML 1.2 ones, so the same text would mean
/// two different values. Refuse them; written as escapes (`"\u2028"`) they are fine.
fn reject_unicode_line_breaks(text: &str) -> Result<(), DecodeError> {
    for (index, line) in text.split('\n').enumerate() {
        if let Some((at, c)) = line
            .char_indices()
            .find(|(_, c)| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'))
        {
            return Err(DecodeError::Syntax {
                line: index + 1,
                column: Some(line[..at].chars().count() + 1),
                message: format!(
                    "raw U+{:04X} (a Unicode line break) is ambiguous in YAML; write it as an escape \
                     (\"\\u{:04x}\") in a double-quoted string, or use \\n",
                    c as u32, c as u32
                ),
            });
        }
    }
    Ok(())
}

/// Decodes a whole stream: the documents and, for each, its line index.
pub(crate) fn decode_stream(text: &str) -> Result<(Vec<Document>, Vec<LineIndex>), DecodeError> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(DecodeError::TooLarge { size: text.len() });
    }
    reject_unicode_line_breaks(text)?;
    let roots = tree::parse_stream(text).map_err(|e| DecodeError::Syntax {
        line: e.line,
        column: e.column,
        message: e.message,
    })?;
    let mut documents = Vec::new();
    let mut indexes = Vec::new();
    let mut first_v1alpha1 = None;
    for root in roots.iter().filter(|r| !r.is_null()) {
        let number = documents.len() + 1;
        let lines = LineIndex::build(root);
        let document = decode_document(root, number, &lines)?;
        if matches!(document, Document::V1Alpha1(_)) {
            if let Some(first) = first_v1alpha1 {
                return Err(located(number, "v1alpha1", Some(root.line), None, format!(
                    "a second v1alpha1 document (the first is document {first}); merge them into one"
                )));
            }
            first_v1alpha1 = Some(number);
        }
        documents.push(document);
        indexes.push(lines);
    }
    if documents.is_empty() {
        return Err(DecodeError::NoDocument);
    }
    Ok((documents, indexes))
}

fn located(
    document: usize,
    kind: &str,
    line: Option<usize>,
    path: Option<String>,
    message: String,
) -> DecodeError {
    DecodeError::Document(Located {
        document,
        kind: kind.to_string(),
        line,
        path,
        message,
    })
}

fn decode_document(root: &Node, number: usize, lines: &LineIndex) -> Result<Document, DecodeError> {
    let NodeKind::Map(_) = &root.kind else {
        let found = if matches!(root.kind, NodeKind::Seq(_)) {
            "a list"
        } else {
            "a single value"
        };
        return Err(located(number, "unknown", Some(root.line), None, format!(
            "found {found}; a config document must be a mapping such as `version: v1alpha1` or `apiVersion: v1alpha1` + `kind: ...`"
        )));
    };
    let api_version = root.get("apiVersion");
    let kind = root.get("kind");
    if api_version.is_none() && kind.is_none() {
        if root.get("version").is_none() {
            return Err(located(number, "unknown", Some(root.line), None,
                "neither `version: v1alpha1` nor `apiVersion`/`kind` found; add `version: v1alpha1` for the machine config document".to_string()));
        }
        check_duplicates(root, number, "v1alpha1")?;
        return typed(root, number, "v1alpha1", lines).map(|c| Document::V1Alpha1(Box::new(c)));
    }
    let kind_name = kind.and_then(Node::scalar).unwrap_or("").to_string();
    let label = if kind_name.is_empty() {
        "unknown"
    } else {
        kind_name.as_str()
    };
    check_duplicates(root, number, label)?;
    if kind_name.is_empty() {
        return Err(located(
            number,
            label,
            lines.exact("").or(Some(root.line)),
            Some(".kind".into()),
            format!(
                "missing or empty; set the document kind, one of: {}",
                SUPPORTED_KINDS.join(", ")
            ),
        ));
    }
    let version = api_version.and_then(Node::scalar).unwrap_or("");
    if version != "v1alpha1" {
        return Err(located(
            number,
            label,
            lines.exact(".apiVersion").or(Some(root.line)),
            Some(".apiVersion".into()),
            format!("{version:?} is not supported for kind {kind_name:?}; use \"v1alpha1\""),
        ));
    }
    match kind_name.as_str() {
        "TrustedRootsConfig" => typed(root, number, label, lines).map(Document::TrustedRoots),
        "KmsgLogConfig" => typed(root, number, label, lines).map(Document::KmsgLog),
        "NetworkDefaultActionConfig" => {
            typed(root, number, label, lines).map(Document::NetworkDefaultAction)
        }
        "NetworkRuleConfig" => {
            typed::<kinds::NetworkRuleConfig>(root, number, label, lines).map(Document::NetworkRule)
        }
        other => {
            let message = if UNSUPPORTED_KINDS.contains(&other) {
                format!("kind {other:?} is a Talos document Basalt does not support yet; remove this document")
            } else {
                format!(
                    "unknown document kind {other:?}; supported kinds: {}",
                    SUPPORTED_KINDS.join(", ")
                )
            };
            Err(located(
                number,
                label,
                lines.exact(".kind"),
                Some(".kind".into()),
                message,
            ))
        }
    }
}

fn check_duplicates(root: &Node, number: usize, kind: &str) -> Result<(), DecodeError> {
    match lines::find_duplicate_key(root, "") {
        Some((path, line, first)) => Err(located(
            number,
            kind,
            Some(line),
            Some(path),
            format!("duplicate key (first defined at line {first}); keep only one"),
        )),
        None => Ok(()),
    }
}

/// Deserializes one document into `T`, turning serde errors into located errors.
fn typed<T: DeserializeOwned>(
    root: &Node,
    number: usize,
    kind: &str,
    lines: &LineIndex,
) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(NodeDe(root)).map_err(|err| {
        let mut path = String::new();
        for segment in err.path().iter() {
            path = match segment {
                serde_path_to_error::Segment::Seq { index } => push_index(&path, *index),
                serde_path_to_error::Segment::Map { key } => push_key(&path, key),
                serde_path_to_error::Segment::Enum { variant } => push_key(&path, variant),
                serde_path_to_error::Segment::Unknown => path,
            };
        }
        match err.into_inner() {
            DeError::UnknownField { field, expected } => {
                let own = push_key("", &field);
                let (parent, full) = match path.strip_suffix(own.as_str()) {
                    Some(parent) => (parent.to_string(), path.clone()),
                    None => (path.clone(), push_key(&path, &field)),
                };
                let message = unsupported::unknown_field_message(&parent, &field, expected);
                located(number, kind, lines.line(&full), Some(full), message)
            }
            DeError::Message(message) => {
                located(number, kind, lines.line(&path), Some(path), message)
            }
        }
    })
}
