//! Where the merge is: the field path for messages and for rule lookup.

use super::rules::{self, Rule};
use super::MergeError;
use crate::patch::docs::DocId;

/// The path from a document's root to the value being merged.
#[derive(Debug)]
pub(crate) struct Trail {
    kind: String,
    doc: String,
    /// Map keys, and `[]` for list items (what [`rules::lookup`] matches).
    pattern: Vec<String>,
    /// `.machine.network.interfaces[eth0]`, grown and truncated as the merge walks.
    display: String,
    marks: Vec<usize>,
}

impl Trail {
    /// An empty trail at the root of the document `id`.
    pub(crate) fn new(id: &DocId) -> Trail {
        Trail {
            kind: id.kind().to_string(),
            doc: match id {
                DocId::V1Alpha1 => String::new(),
                other => other.to_string(),
            },
            pattern: Vec::new(),
            display: String::new(),
            marks: Vec::new(),
        }
    }

    /// Steps into the map key `key`.
    pub(crate) fn push_key(&mut self, key: &str) {
        self.marks.push(self.display.len());
        self.pattern.push(key.to_string());
        self.display.push('.');
        self.display.push_str(key);
    }

    /// Steps into a list item shown as `[label]`.
    pub(crate) fn push_item(&mut self, label: &str) {
        self.marks.push(self.display.len());
        self.pattern.push("[]".to_string());
        self.display.push('[');
        self.display.push_str(label);
        self.display.push(']');
    }

    /// Steps back out of the last key or item.
    pub(crate) fn pop(&mut self) {
        self.pattern.pop();
        let mark = self.marks.pop().unwrap_or(0);
        self.display.truncate(mark);
    }

    /// The special merge rule for the current path, if any.
    pub(crate) fn rule(&self) -> Option<Rule> {
        rules::lookup(&self.kind, &self.pattern)
    }

    /// The current path as shown to users.
    pub(crate) fn path(&self) -> String {
        match (self.doc.is_empty(), self.display.is_empty()) {
            (true, true) => "v1alpha1 document".to_string(),
            (true, false) => self.display.clone(),
            (false, _) => format!("{}{}", self.doc, self.display),
        }
    }

    /// An error at the current path.
    pub(crate) fn err(&self, reason: impl Into<String>) -> MergeError {
        MergeError {
            path: self.path(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_and_pop_keep_display_in_step() {
        let mut trail = Trail::new(&DocId::V1Alpha1);
        assert_eq!(trail.path(), "v1alpha1 document");
        trail.push_key("machine");
        trail.push_key("network");
        trail.push_key("interfaces");
        trail.push_item("eth0");
        assert_eq!(trail.path(), ".machine.network.interfaces[eth0]");
        trail.push_key("vlans");
        assert_eq!(trail.rule(), Some(Rule::Keyed(&["vlanId"])));
        trail.pop();
        trail.pop();
        assert_eq!(trail.path(), ".machine.network.interfaces");
    }

    #[test]
    fn companion_documents_are_named() {
        let id = DocId::Kind {
            kind: "ExtensionServiceConfig".to_string(),
            name: Some("foo".to_string()),
        };
        let mut trail = Trail::new(&id);
        assert_eq!(trail.path(), "ExtensionServiceConfig/foo");
        trail.push_key("configFiles");
        assert_eq!(trail.path(), "ExtensionServiceConfig/foo.configFiles");
    }
}
