//! The machine config as a whole: a YAML stream of documents.

use std::path::Path;

use crate::decode::{self, DecodeError, LineIndex};
use crate::kinds::{
    KmsgLogConfig, NetworkDefaultActionConfig, NetworkRuleConfig, TrustedRootsConfig,
};
use crate::v1alpha1;

/// One document of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// The `version: v1alpha1` machine config.
    V1Alpha1(Box<v1alpha1::Config>),
    /// `kind: TrustedRootsConfig`.
    TrustedRoots(TrustedRootsConfig),
    /// `kind: KmsgLogConfig`.
    KmsgLog(KmsgLogConfig),
    /// `kind: NetworkDefaultActionConfig`.
    NetworkDefaultAction(NetworkDefaultActionConfig),
    /// `kind: NetworkRuleConfig`.
    NetworkRule(NetworkRuleConfig),
}

impl Document {
    /// `v1alpha1` or the document's kind, as printed in messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Document::V1Alpha1(_) => "v1alpha1",
            Document::TrustedRoots(_) => "TrustedRootsConfig",
            Document::KmsgLog(_) => "KmsgLogConfig",
            Document::NetworkDefaultAction(_) => "NetworkDefaultActionConfig",
            Document::NetworkRule(_) => "NetworkRuleConfig",
        }
    }

    fn to_yaml(&self) -> Result<String, serde_yaml::Error> {
        match self {
            Document::V1Alpha1(c) => serde_yaml::to_string(c),
            Document::TrustedRoots(c) => serde_yaml::to_string(c),
            Document::KmsgLog(c) => serde_yaml::to_string(c),
            Document::NetworkDefaultAction(c) => serde_yaml::to_string(c),
            Document::NetworkRule(c) => serde_yaml::to_string(c),
        }
    }
}

/// Why a machine config could not be written as YAML.
#[derive(Debug, thiserror::Error)]
#[error("cannot write document {document} ({kind}) as YAML: {source}")]
pub struct EncodeError {
    /// 1-based document index.
    pub document: usize,
    /// Document kind.
    pub kind: &'static str,
    /// The serializer's error.
    pub source: serde_yaml::Error,
}

/// A whole machine config: the YAML stream of documents.
///
/// After decoding, it also remembers where each field was (for validation messages);
/// equality compares the documents only.
#[derive(Debug, Clone, Default)]
pub struct MachineConfig {
    /// The documents, in stream order (empty documents dropped).
    pub documents: Vec<Document>,
    lines: Vec<LineIndex>,
}

impl PartialEq for MachineConfig {
    fn eq(&self, other: &Self) -> bool {
        self.documents == other.documents
    }
}

impl MachineConfig {
    /// Builds a config from documents (no line information).
    pub fn new(documents: Vec<Document>) -> Self {
        MachineConfig {
            documents,
            lines: Vec::new(),
        }
    }

    /// Decodes a YAML stream strictly: unknown keys, wrong types and bad values are errors
    /// naming the document, line and field path.
    pub fn from_yaml(text: &str) -> Result<Self, DecodeError> {
        let (documents, lines) = decode::decode_stream(text)?;
        Ok(MachineConfig { documents, lines })
    }

    /// Decodes raw bytes (must be UTF-8).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > decode::MAX_CONFIG_BYTES {
            return Err(DecodeError::TooLarge { size: bytes.len() });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| DecodeError::NotUtf8 {
            position: e.valid_up_to(),
        })?;
        Self::from_yaml(text)
    }

    /// Reads and decodes a file; errors name the file.
    pub fn from_file(path: &Path) -> Result<Self, DecodeError> {
        let size = std::fs::metadata(path)
            .map_err(|source| DecodeError::Read {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        if size > decode::MAX_CONFIG_BYTES as u64 {
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            return Err(DecodeError::File {
                path: path.to_path_buf(),
                source: Box::new(DecodeError::TooLarge { size }),
            });
        }
        let bytes = std::fs::read(path).map_err(|source| DecodeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes).map_err(|e| DecodeError::File {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// Writes the stream as YAML, documents separated by `---`.
    pub fn to_yaml(&self) -> Result<String, EncodeError> {
        let mut out = String::new();
        for (i, doc) in self.documents.iter().enumerate() {
            let text = doc.to_yaml().map_err(|source| EncodeError {
                document: i + 1,
                kind: doc.kind_name(),
                source,
            })?;
            if i > 0 {
                out.push_str("---\n");
            }
            out.push_str(&text);
        }
        Ok(out)
    }

    /// The `v1alpha1` document, if any.
    pub fn v1alpha1(&self) -> Option<&v1alpha1::Config> {
        self.documents.iter().find_map(|d| match d {
            Document::V1Alpha1(c) => Some(c.as_ref()),
            _ => None,
        })
    }

    /// The `v1alpha1` document, mutable.
    pub fn v1alpha1_mut(&mut self) -> Option<&mut v1alpha1::Config> {
        self.documents.iter_mut().find_map(|d| match d {
            Document::V1Alpha1(c) => Some(c.as_mut()),
            _ => None,
        })
    }

    /// Where the fields of document `index` (0-based) were, when decoded from text and
    /// the document list has not changed shape since.
    pub fn line_index(&self, index: usize) -> Option<&LineIndex> {
        if self.lines.len() == self.documents.len() {
            self.lines.get(index)
        } else {
            None
        }
    }
}
