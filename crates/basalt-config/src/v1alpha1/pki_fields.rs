//! Certificate and key fields: base64-encoded PEM text, as Talos writes them.

use base64::Engine;
use serde::{Deserialize, Serialize};

/// A base64-encoded PEM block (`LS0tLS1CRUdJTi...`), kept as written so that saving the
/// config gives back the same text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Base64Pem(pub String);

/// Why a [`Base64Pem`] could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base64PemError {
    /// The text is not standard base64.
    #[error(
        "is not valid base64 ({0}); paste the base64 of the PEM file, e.g. `base64 -w0 ca.crt`"
    )]
    Base64(String),
    /// The decoded bytes are not a PEM block.
    #[error("decodes to something that is not PEM ({0}); it must be the base64 of a `-----BEGIN ...-----` block")]
    Pem(String),
}

impl Base64Pem {
    /// Wraps base64 text.
    pub fn new(text: impl Into<String>) -> Self {
        Base64Pem(text.into())
    }

    /// Encodes PEM text as base64.
    pub fn from_pem(pem_text: &str) -> Self {
        Base64Pem(base64::engine::general_purpose::STANDARD.encode(pem_text.as_bytes()))
    }

    /// True when the field is present but empty (Talos writes `key: ""` on workers).
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// The PEM bytes (base64-decoded; whitespace in the base64 text is ignored).
    pub fn decode(&self) -> Result<Vec<u8>, Base64PemError> {
        let compact: String = self.0.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| Base64PemError::Base64(e.to_string()))
    }

    /// The parsed PEM block.
    pub fn pem(&self) -> Result<pem::Pem, Base64PemError> {
        let bytes = self.decode()?;
        pem::parse(&bytes).map_err(|e| Base64PemError::Pem(e.to_string()))
    }
}

/// A certificate with an optional private key (`ca: {crt, key}`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CertAndKey {
    /// The certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crt: Option<Base64Pem>,
    /// The private key; empty on worker nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Base64Pem>,
}

impl CertAndKey {
    /// The key, when present and not empty.
    pub fn key(&self) -> Option<&Base64Pem> {
        self.key.as_ref().filter(|k| !k.is_empty())
    }

    /// The certificate, when present and not empty.
    pub fn crt(&self) -> Option<&Base64Pem> {
        self.crt.as_ref().filter(|c| !c.is_empty())
    }
}

/// A certificate only (`acceptedCAs: [{crt}]`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CertOnly {
    /// The certificate.
    pub crt: Base64Pem,
}

/// A private key only (`serviceAccount: {key}`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeyOnly {
    /// The private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Base64Pem>,
}
