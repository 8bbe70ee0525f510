//! Multi-node replies: apid answers a call sent to several nodes with one message per
//! node, tagged with `metadata.hostname` or carrying `metadata.error`. Commands print
//! the good ones and report each failed node on stderr as `NODE: error: ...`, then
//! exit 1 ([`NodesFailed`]).

use basalt_api::common;

/// Returned after failed nodes were reported on stderr; `main` exits 1 without
/// printing anything more.
#[derive(Debug, thiserror::Error)]
#[error("{count} node(s) failed (reported above)")]
pub struct NodesFailed {
    /// How many nodes failed.
    pub count: usize,
}

/// A reply split by node.
#[derive(Debug)]
pub struct Split<T> {
    /// Answers of the nodes that succeeded, with their names.
    pub ok: Vec<(String, T)>,
    /// `NODE: error: ...` for every node that failed.
    pub failed: Vec<String>,
}

/// Splits `messages` by node; a message without a hostname is named `fallback`.
pub fn split<T>(
    fallback: &str,
    messages: Vec<T>,
    metadata: impl Fn(&T) -> Option<&common::Metadata>,
) -> Split<T> {
    let mut out = Split {
        ok: Vec::new(),
        failed: Vec::new(),
    };
    for message in messages {
        let (node, error) = match metadata(&message) {
            Some(m) => (node_of(m, fallback), m.error.clone()),
            None => (fallback.to_string(), String::new()),
        };
        if error.is_empty() {
            out.ok.push((node, message));
        } else {
            out.failed.push(error_line(&node, &error));
        }
    }
    out
}

/// The node a message is from: its hostname, else `fallback`.
pub fn node_of(metadata: &common::Metadata, fallback: &str) -> String {
    if metadata.hostname.is_empty() {
        fallback.to_string()
    } else {
        metadata.hostname.clone()
    }
}

/// `NODE: error: MESSAGE`.
pub fn error_line(node: &str, error: &str) -> String {
    format!("{node}: error: {error}")
}

/// Prints every failure on stderr; fails with [`NodesFailed`] when there was any.
pub fn finish(failed: &[String]) -> anyhow::Result<()> {
    for line in failed {
        eprintln!("{line}");
    }
    fail_if_any(failed.len())
}

/// Fails with [`NodesFailed`] when `count` failures were already reported on stderr.
pub fn fail_if_any(count: usize) -> anyhow::Result<()> {
    if count == 0 {
        Ok(())
    } else {
        Err(NodesFailed { count }.into())
    }
}

/// Every line of `bytes` prefixed with `NODE: ` (for streams from several nodes).
pub fn prefix_lines(node: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + node.len() + 2);
    let mut at_line_start = true;
    for &b in bytes {
        if at_line_start {
            out.extend_from_slice(node.as_bytes());
            out.extend_from_slice(b": ");
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn meta(hostname: &str, error: &str) -> Option<common::Metadata> {
        Some(common::Metadata {
            hostname: hostname.into(),
            error: error.into(),
            ..Default::default()
        })
    }

    #[test]
    fn good_and_failed_nodes_are_separated_and_named() {
        let messages = vec![
            (meta("10.5.0.2", ""), 1),
            (meta("10.5.0.4", "connection refused"), 2),
            (None, 3),
        ];
        let split = split("local", messages, |m| m.0.as_ref());
        let ok: Vec<(String, i32)> = split.ok.into_iter().map(|(n, m)| (n, m.1)).collect();
        assert_eq!(ok, [("10.5.0.2".into(), 1), ("local".into(), 3)]);
        assert_eq!(split.failed, ["10.5.0.4: error: connection refused"]);
        assert!(finish(&[]).is_ok());
        let err = finish(&split.failed).unwrap_err();
        assert!(err.is::<NodesFailed>());
        assert!(fail_if_any(0).is_ok() && fail_if_any(2).is_err());
    }

    #[test]
    fn stream_lines_get_the_node_prefix() {
        assert_eq!(prefix_lines("n1", b"a\nb\n"), b"n1: a\nn1: b\n");
        assert_eq!(prefix_lines("n1", b""), b"");
    }
}
