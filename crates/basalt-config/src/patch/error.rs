//! The one error type of the patch module.

/// Everything that can go wrong while loading or applying a config patch.
///
/// Every message says which patch (its 1-based position and its source, e.g. `@cp.yaml`),
/// where (operation, JSON pointer or YAML field path) and why.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// A `@file` patch argument could not be read.
    #[error("cannot read patch file {path:?}: {source}; check the path given after '@'")]
    Read {
        /// The file path as given (without the `@`).
        path: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },

    /// Text that should be YAML (or JSON) is not.
    #[error("{origin}: invalid YAML: {reason}")]
    Yaml {
        /// What was being parsed: `@file.yaml`, `inline`, `machine config` …
        origin: String,
        /// The parser's message, including line and column.
        reason: String,
    },

    /// The patch parses as YAML but is not a valid patch (wrong shape, bad operation).
    #[error("{origin}: {reason}")]
    Invalid {
        /// The patch source: `@file.yaml` or `inline`.
        origin: String,
        /// What is wrong and what to do about it.
        reason: String,
    },

    /// A strategic merge patch could not be applied.
    #[error("patch {patch} ({origin}), {path}: {reason}")]
    Strategic {
        /// 1-based position of the patch in the list of patches.
        patch: usize,
        /// Where the patch came from (`@file.yaml`, or `strategic merge` for inline text).
        origin: String,
        /// The YAML field path that failed, e.g. `.machine.network.interfaces[eth9]`.
        path: String,
        /// Why it failed.
        reason: String,
    },

    /// An RFC 6902 operation could not be applied.
    #[error("patch {patch} ({origin}), operation {operation} ({op} {path}): {reason}")]
    Operation {
        /// 1-based position of the patch in the list of patches.
        patch: usize,
        /// Where the patch came from (`@file.yaml`, or `JSON patch` for inline text).
        origin: String,
        /// 1-based position of the operation inside the patch.
        operation: usize,
        /// The operation name: `add`, `remove`, `replace`, `move`, `copy` or `test`.
        op: &'static str,
        /// The operation's JSON pointer (`path` member).
        path: String,
        /// Why it failed.
        reason: String,
    },

    /// The patched documents could not be written back as YAML.
    #[error("cannot render the patched config as YAML: {reason}")]
    Render {
        /// The serializer's message.
        reason: String,
    },
}
