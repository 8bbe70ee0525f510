//! [`PemBlob`]: PEM text stored base64-encoded in the client config, as Talos does.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// PEM-encoded bytes (a certificate or a private key).
///
/// In the YAML file the PEM text is stored base64-encoded (standard alphabet, padded),
/// exactly like the `ca`, `crt` and `key` fields of a Talos `talosconfig`.
/// `Debug` never prints the bytes, so private keys do not leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct PemBlob(Vec<u8>);

/// Why some bytes are not accepted as a [`PemBlob`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemError {
    /// The field is not valid base64.
    #[error("not valid base64 ({reason}); the value must be base64-encoded PEM text")]
    NotBase64 {
        /// What the base64 decoder reported.
        reason: String,
    },
    /// The bytes do not start with a PEM `-----BEGIN ` line.
    #[error("does not contain PEM text (expected it to start with `-----BEGIN `)")]
    NotPem,
}

impl PemBlob {
    /// Wraps PEM text after checking that it starts with a `-----BEGIN ` line.
    pub fn from_pem(bytes: impl Into<Vec<u8>>) -> Result<Self, PemError> {
        let bytes = bytes.into();
        let text = String::from_utf8_lossy(&bytes);
        if !text.trim_start().starts_with("-----BEGIN ") {
            return Err(PemError::NotPem);
        }
        Ok(Self(bytes))
    }

    /// Decodes the base64 form used in the file, then checks it is PEM.
    pub fn from_base64(encoded: &str) -> Result<Self, PemError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|e| PemError::NotBase64 {
                reason: e.to_string(),
            })?;
        Self::from_pem(bytes)
    }

    /// The PEM bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The base64 form written to the file.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.0)
    }
}

impl std::fmt::Debug for PemBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PemBlob(<{} bytes>)", self.0.len())
    }
}

impl Serialize for PemBlob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for PemBlob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let encoded = String::deserialize(deserializer)?;
        PemBlob::from_base64(&encoded).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

    #[test]
    fn base64_round_trip_keeps_bytes() {
        let blob = PemBlob::from_pem(PEM).unwrap();
        let again = PemBlob::from_base64(&blob.to_base64()).unwrap();
        assert_eq!(again.as_bytes(), PEM.as_bytes());
    }

    #[test]
    fn rejects_raw_pem_where_base64_is_expected() {
        let err = PemBlob::from_base64(PEM).unwrap_err();
        assert!(matches!(err, PemError::NotBase64 { .. }), "{err}");
    }

    #[test]
    fn rejects_base64_of_non_pem() {
        let err = PemBlob::from_base64(&STANDARD.encode("hello")).unwrap_err();
        assert_eq!(err, PemError::NotPem);
    }

    #[test]
    fn debug_hides_the_bytes() {
        let blob = PemBlob::from_pem(PEM).unwrap();
        let shown = format!("{blob:?}");
        assert!(!shown.contains("BEGIN"), "{shown}");
        assert!(shown.contains(&PEM.len().to_string()), "{shown}");
    }
}
