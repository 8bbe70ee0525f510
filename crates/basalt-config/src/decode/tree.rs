//! A YAML document tree that remembers the line of every node.
//!
//! yaml-rust2's event parser gives us marks; we build a small tree of [`Node`]s with the
//! original scalar text (so that `v: 2` can become the string `"2"` where a string is
//! expected, as Go's YAML decoder does) and the 1-based line of each node.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deepest nesting accepted; protects the recursive deserializer's stack.
pub(crate) const MAX_DEPTH: usize = 64;
/// Most nodes accepted after alias expansion; protects against "billion laughs".
pub(crate) const MAX_NODES: usize = 200_000;

/// One YAML node.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// 1-based line where the node starts.
    pub line: usize,
    /// What the node holds.
    pub kind: NodeKind,
}

/// The shape of a node.
#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    /// A scalar with its text; `plain` is false for quoted/block scalars or `!!str`.
    Scalar { text: String, plain: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// True for an empty/`~`/`null` plain scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true } if is_null_text(text))
    }

    /// The value of `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.scalar() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a scalar node.
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// True for the plain-scalar spellings of null.
pub(crate) fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// A YAML syntax or structure problem found while building the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TreeError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// Parses a whole stream into one root node per document (empty documents included as
/// null scalars; the caller skips them).
pub(crate) fn parse_stream(text: &str) -> Result<Vec<Node>, TreeError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    let result = parser.load(&mut builder, true);
    if let Some(err) = builder.error {
        return Err(err);
    }
    if let Err(e) = result {
        let mark = e.marker();
        return Err(TreeError {
            line: line_of(mark),
            column: Some(mark.col() + 1),
            message: format!("invalid YAML: {}", e.info()),
        });
    }
    Ok(builder.documents)
}

fn line_of(mark: &Marker) -> usize {
    mark.line().max(1)
}

/// A collection under construction.
#[derive(Debug)]
enum Frame {
    Seq {
        line: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: usize,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

#[derive(Debug, Default)]
struct Builder {
    stack: Vec<Frame>,
    documents: Vec<Node>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    error: Option<TreeError>,
}

impl Builder {
    fn fail(&mut self, line: usize, message: String) {
        if self.error.is_none() {
            self.error = Some(TreeError {
                line,
                column: None,
                message,
            });
        }
    }

    fn count(&mut self, n: usize, line: usize) -> bool {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            self.fail(line, format!("document has more than {MAX_NODES} nodes (after expanding aliases); simplify it"));
            return false;
        }
        true
    }

    /// Adds a finished node to the current collection (or ends the document).
    fn push(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }

    fn open(&mut self, frame: Frame, line: usize) {
        if self.stack.len() >= MAX_DEPTH {
            self.fail(
                line,
                format!("nesting deeper than {MAX_DEPTH} levels; flatten the document"),
            );
            return;
        }
        if self.count(1, line) {
            self.stack.push(frame);
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Scalar { .. } => 1,
        NodeKind::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        NodeKind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count_nodes(k) + count_nodes(v))
                .sum::<usize>()
        }
    }
}

fn is_str_tag(tag: &Option<Tag>) -> bool {
    matches!(tag, Some(t) if t.suffix == "str" || t.suffix == "tag:yaml.org,2002:str")
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = line_of(&mark);
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                if !self.count(1, line) {
                    return;
                }
                let plain = style == TScalarStyle::Plain && !is_str_tag(&tag);
                self.push(
                    Node {
                        line,
                        kind: NodeKind::Scalar { text, plain },
                    },
                    anchor,
                );
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(mut node) => {
                    if self.count(count_nodes(&node), line) {
                        node.line = line;
                        self.push(node, 0);
                    }
                }
                None => self.fail(line, "alias refers to an unknown anchor".to_string()),
            },
            Event::SequenceStart(anchor, _) => {
                self.open(
                    Frame::Seq {
                        line,
                        anchor,
                        items: Vec::new(),
                    },
                    line,
                );
            }
            Event::MappingStart(anchor, _) => {
                self.open(
                    Frame::Map {
                        line,
                        anchor,
                        entries: Vec::new(),
                        key: None,
                    },
                    line,
                );
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    line,
                    anchor,
                    items,
                }) => {
                    self.push(
                        Node {
                            line,
                            kind: NodeKind::Seq(items),
                        },
                        anchor,
                    );
                }
                Some(Frame::Map {
                    line,
                    anchor,
                    entries,
                    ..
                }) => {
                    self.push(
                        Node {
                            line,
                            kind: NodeKind::Map(entries),
                        },
                        anchor,
                    );
                }
                None => {}
            },
            Event::DocumentStart => self.anchors.clear(),
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lines_are_one_based_and_documents_split() {
        let docs = parse_stream("a: 1\nb:\n  c: x\n---\n---\nz: 2\n").unwrap();
        assert_eq!(docs.len(), 3);
        let b = docs[0].get("b").unwrap();
        assert_eq!(b.get("c").unwrap().line, 3);
        assert!(docs[1].is_null());
        assert_eq!(docs[2].get("z").unwrap().line, 6);
    }

    #[test]
    fn quoted_scalars_are_not_plain() {
        let docs = parse_stream("a: \"1\"\nb: 1\nc: !!str 2\n").unwrap();
        let plain = |k: &str| matches!(docs[0].get(k).unwrap().kind, NodeKind::Scalar { plain, .. } if plain);
        assert!(!plain("a"));
        assert!(plain("b"));
        assert!(!plain("c"));
    }

    #[test]
    fn aliases_expand_and_deep_nesting_is_refused() {
        let docs = parse_stream("a: &x {k: v}\nb: *x\n").unwrap();
        assert_eq!(
            docs[0].get("b").unwrap().get("k").unwrap().scalar(),
            Some("v")
        );
        let deep = "[".repeat(MAX_DEPTH + 1);
        let err = parse_stream(&deep).unwrap_err();
        assert!(err.message.contains("nesting"), "{err:?}");
    }

    #[test]
    fn syntax_error_has_line() {
        let err = parse_stream("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }
}
