//! Strategic merge patches, Talos style: each patch document is merged into the config
//! document with the same identity, or appended when there is none.

mod merge;
mod rules;
mod trail;

use serde_yaml::Value;

use super::docs::DocId;
use merge::{fresh, is_delete, merge};
use trail::Trail;

/// A strategic merge failure: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MergeError {
    /// The field path, e.g. `.machine.network.interfaces[eth9]`.
    pub(crate) path: String,
    /// What went wrong and what to do.
    pub(crate) reason: String,
}

/// Applies the patch documents in order. On error `docs` may be partly changed; callers
/// work on a copy.
pub(crate) fn apply(docs: &mut Vec<Value>, patch_docs: &[Value]) -> Result<(), MergeError> {
    for patch_doc in patch_docs {
        let id = DocId::of(patch_doc);
        let mut trail = Trail::new(&id);
        let position = docs.iter().position(|d| DocId::of(d) == id);
        match position {
            Some(i) if is_delete(patch_doc) => {
                docs.remove(i);
            }
            None if is_delete(patch_doc) => {
                return Err(trail.err(format!("cannot delete: the config has no document {id}")));
            }
            Some(i) => merge(&mut docs[i], patch_doc.clone(), &mut trail)?,
            None => docs.push(fresh(patch_doc.clone(), &mut trail)?),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
