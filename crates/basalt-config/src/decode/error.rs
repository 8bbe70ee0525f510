//! Decoding errors: each names the document, the YAML line and the field path.

use std::fmt;
use std::path::PathBuf;

use super::MAX_CONFIG_BYTES;

/// A field-level problem inside one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// 1-based index of the document among the stream's non-empty documents.
    pub document: usize,
    /// `v1alpha1`, the document's `kind`, or `unknown`.
    pub kind: String,
    /// 1-based YAML line, when known.
    pub line: Option<usize>,
    /// Field path such as `.machine.network.interfaces[1].mtu`; `None` for the whole document.
    pub path: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {} ({})", self.document, self.kind)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        match &self.path {
            Some(path) => write!(
                f,
                ": {}: {}",
                super::lines::display_path(path),
                self.message
            ),
            None => write!(f, ": {}", self.message),
        }
    }
}

/// Why a machine config could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The input is larger than [`MAX_CONFIG_BYTES`].
    #[error("machine config is {size} bytes, more than the {MAX_CONFIG_BYTES}-byte limit; remove unused content (large manifests belong in cluster.extraManifests URLs)")]
    TooLarge {
        /// Size of the input.
        size: usize,
    },
    /// The input is not valid UTF-8.
    #[error("machine config is not valid UTF-8 text (byte {position}); save it as UTF-8")]
    NotUtf8 {
        /// Offset of the first bad byte.
        position: usize,
    },
    /// The file could not be read.
    #[error("{}: cannot read machine config: {source}; check the path and permissions", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A problem inside a file (the inner error says where).
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The problem.
        source: Box<DecodeError>,
    },
    /// The text is not valid YAML.
    #[error("line {line}{}: {message}; fix the YAML syntax (indentation, quotes, brackets)", column.map(|c| format!(", column {c}")).unwrap_or_default())]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What the parser reported.
        message: String,
    },
    /// The stream has no document at all.
    #[error("machine config contains no YAML document; it needs at least a document with `version: v1alpha1`")]
    NoDocument,
    /// A problem with one document or field.
    #[error("{0}")]
    Document(Located),
}

impl DecodeError {
    /// The located problem, if this error is about a document/field (also inside a file).
    pub fn located(&self) -> Option<&Located> {
        match self {
            DecodeError::Document(l) => Some(l),
            DecodeError::File { source, .. } => source.located(),
            _ => None,
        }
    }
}
