//! Machine config patches, as `talosctl` understands them:
//!
//! - **strategic merge patches**: partial config documents merged into the config
//!   (see [`strategic`] for the rules, including `$patch: delete`);
//! - **RFC 6902 JSON patches**: lists of operations with RFC 6901 pointers. Unlike Talos,
//!   they also work on multi-document configs: an operation's extra `document` member picks
//!   the document ([`DocSelector`]).
//!
//! Applying a patch is all-or-nothing: when any part fails, the documents are unchanged.

mod docs;
mod error;
mod json;
mod load;
mod pointer;
mod strategic;

use serde_yaml::Value;

pub use docs::{parse_stream, render_stream, DocSelector};
pub use error::PatchError;
pub use json::{JsonOp, OpKind};
pub use load::{load_patch_arg, parse_patch};
pub use pointer::Pointer;

/// A parsed patch.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch {
    /// A strategic merge patch: one or more YAML map documents.
    Strategic(Vec<Value>),
    /// An RFC 6902 JSON patch: a list of operations.
    Json(Vec<JsonOp>),
}

/// A patch together with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedPatch {
    /// `@file.yaml` for a file argument, `inline` for patch text.
    pub source: String,
    /// The patch itself.
    pub patch: Patch,
}

impl LoadedPatch {
    /// How errors name this patch: its file, or its format when it was given inline.
    fn label(&self) -> String {
        match (&self.patch, self.source.as_str()) {
            (Patch::Strategic(_), "inline") => "strategic merge".to_string(),
            (Patch::Json(_), "inline") => "JSON patch".to_string(),
            (_, source) => source.to_string(),
        }
    }
}

/// Applies `patch` to `docs`. `index` is the patch's 1-based position, used in errors.
///
/// All-or-nothing: on error `docs` is left unchanged.
pub fn apply(docs: &mut Vec<Value>, patch: &LoadedPatch, index: usize) -> Result<(), PatchError> {
    let mut work = docs.clone();
    match &patch.patch {
        Patch::Strategic(patch_docs) => {
            strategic::apply(&mut work, patch_docs).map_err(|e| PatchError::Strategic {
                patch: index,
                origin: patch.label(),
                path: e.path,
                reason: e.reason,
            })?;
        }
        Patch::Json(ops) => {
            for (i, op) in ops.iter().enumerate() {
                json::apply_op(&mut work, op).map_err(|reason| PatchError::Operation {
                    patch: index,
                    origin: patch.label(),
                    operation: i + 1,
                    op: op.kind.name(),
                    path: op.path.to_string(),
                    reason,
                })?;
            }
        }
    }
    *docs = work;
    Ok(())
}

/// Parses a config stream, applies `patches` in order (numbered from 1 in errors) and
/// renders the result as a YAML stream.
pub fn apply_all(config_text: &str, patches: &[LoadedPatch]) -> Result<String, PatchError> {
    let mut docs = docs::parse_stream_from(config_text, "machine config")?;
    for (i, patch) in patches.iter().enumerate() {
        apply(&mut docs, patch, i + 1)?;
    }
    render_stream(&docs)
}

/// A value as compact JSON for messages (`"/dev/sda"`, `{"a":1}`), cut at 80 characters.
pub(crate) fn show(value: &Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_else(|_| {
        serde_yaml::to_string(value)
            .map(|s| s.trim_end().replace('\n', " "))
            .unwrap_or_else(|_| "<value>".to_string())
    });
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
