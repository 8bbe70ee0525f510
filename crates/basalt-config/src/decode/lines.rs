//! Field path → YAML line index of one document, and the path spelling we print.
//!
//! Paths look like `.machine.network.interfaces[1].addresses[0]`; a key that is not a
//! simple word is written `["node.kubernetes.io/exclude"]`.

use std::collections::HashMap;

use super::tree::{Node, NodeKind};

/// Appends a mapping key to a path.
pub fn push_key(path: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if simple {
        format!("{path}.{key}")
    } else {
        format!("{path}[{key:?}]")
    }
}

/// Appends a sequence index to a path.
pub fn push_index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// Prints the document root path as `.`.
pub fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "."
    } else {
        path
    }
}

/// Where each field of one document is, by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineIndex {
    lines: HashMap<String, usize>,
}

impl LineIndex {
    /// Indexes a document tree.
    pub(crate) fn build(root: &Node) -> Self {
        let mut index = LineIndex::default();
        index.lines.insert(String::new(), root.line);
        index.walk(root, "");
        index
    }

    fn walk(&mut self, node: &Node, path: &str) {
        match &node.kind {
            NodeKind::Scalar { .. } => {}
            NodeKind::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let p = push_index(path, i);
                    self.lines.insert(p.clone(), item.line);
                    self.walk(item, &p);
                }
            }
            NodeKind::Map(entries) => {
                for (k, v) in entries {
                    let Some(key) = k.scalar() else { continue };
                    let p = push_key(path, key);
                    self.lines.entry(p.clone()).or_insert(k.line);
                    self.walk(v, &p);
                }
            }
        }
    }

    /// The line of `path`, or of its nearest indexed parent.
    pub fn line(&self, path: &str) -> Option<usize> {
        let mut p = path;
        loop {
            if let Some(line) = self.lines.get(p) {
                return Some(*line);
            }
            if p.is_empty() {
                return None;
            }
            p = parent(p);
        }
    }

    /// The line of exactly `path`, if it is in the document.
    pub fn exact(&self, path: &str) -> Option<usize> {
        self.lines.get(path).copied()
    }
}

/// Drops the last segment of a path.
fn parent(path: &str) -> &str {
    if path.ends_with(']') {
        if let Some(i) = path.rfind('[') {
            return &path[..i];
        }
    }
    match path.rfind('.') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// Finds the first key that appears twice in one mapping: `(path, line, first line)`.
pub(crate) fn find_duplicate_key(node: &Node, path: &str) -> Option<(String, usize, usize)> {
    match &node.kind {
        NodeKind::Scalar { .. } => None,
        NodeKind::Seq(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_duplicate_key(item, &push_index(path, i))),
        NodeKind::Map(entries) => {
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (k, _) in entries {
                if let Some(key) = k.scalar() {
                    if let Some(first) = seen.insert(key, k.line) {
                        return Some((push_key(path, key), k.line, first));
                    }
                }
            }
            entries.iter().find_map(|(k, v)| {
                let key = k.scalar()?;
                find_duplicate_key(v, &push_key(path, key))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::decode::tree::parse_stream;

    #[test]
    fn index_and_parents() {
        let text = "machine:\n  network:\n    interfaces:\n      - interface: eth0\n        mtu: 1500\n      - interface: eth1\n        mtu: abc\n  nodeLabels:\n    a.b/c: x\n";
        let doc = &parse_stream(text).unwrap()[0];
        let index = LineIndex::build(doc);
        assert_eq!(index.line(".machine.network.interfaces[1].mtu"), Some(7));
        assert_eq!(index.line(".machine.network.interfaces[1]"), Some(6));
        assert_eq!(index.line(".machine.network.interfaces[1].nope"), Some(6));
        assert_eq!(index.line(".machine.nodeLabels[\"a.b/c\"]"), Some(9));
        assert_eq!(index.exact(".machine.nope"), None);
    }

    #[test]
    fn duplicate_keys_are_found() {
        let doc = &parse_stream("a:\n  b: 1\n  c: 2\n  b: 3\n").unwrap()[0];
        assert_eq!(
            find_duplicate_key(doc, ""),
            Some((".a.b".to_string(), 4, 2))
        );
    }
}
