//! Private keys: generation, loading from PEM, writing in Talos's PEM labels.

mod der;
mod encoding;

use std::fmt;

use rcgen::{KeyPair, PublicKeyData, SignatureAlgorithm, PKCS_ECDSA_P256_SHA256, PKCS_ED25519};

use crate::error::{PkiError, Result};

/// PEM label Talos (siderolabs/crypto) uses for Ed25519 keys; the body is PKCS#8.
pub const PEM_LABEL_ED25519: &str = "ED25519 PRIVATE KEY";
/// PEM label for SEC1 elliptic-curve keys (RFC 5915), used by Talos for ECDSA.
pub const PEM_LABEL_EC: &str = "EC PRIVATE KEY";
/// PEM label for generic PKCS#8 keys.
pub const PEM_LABEL_PKCS8: &str = "PRIVATE KEY";

const ACCEPTED_LABELS: &str = "'PRIVATE KEY', 'ED25519 PRIVATE KEY', 'EC PRIVATE KEY'";

/// The key algorithms Basalt uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// Ed25519 (the OS API PKI).
    Ed25519,
    /// ECDSA on NIST P-256 with SHA-256 (Kubernetes and etcd PKIs).
    EcdsaP256,
}

impl KeyAlgorithm {
    fn signature_algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            KeyAlgorithm::Ed25519 => &PKCS_ED25519,
            KeyAlgorithm::EcdsaP256 => &PKCS_ECDSA_P256_SHA256,
        }
    }

    fn from_signature_algorithm(alg: &SignatureAlgorithm) -> Option<Self> {
        if *alg == PKCS_ED25519 {
            Some(KeyAlgorithm::Ed25519)
        } else if *alg == PKCS_ECDSA_P256_SHA256 {
            Some(KeyAlgorithm::EcdsaP256)
        } else {
            None
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyAlgorithm::Ed25519 => "Ed25519",
            KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
        })
    }
}

/// A private key (with its public half) that can sign certificates and CSRs.
pub struct PrivateKey {
    key_pair: KeyPair,
    algorithm: KeyAlgorithm,
    /// The key in Talos's PEM form, computed once.
    pem: String,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl PrivateKey {
    /// Generates a fresh key pair from the operating system's random source.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self> {
        let key_pair = KeyPair::generate_for(algorithm.signature_algorithm()).map_err(|e| {
            PkiError::KeyGeneration {
                algorithm: algorithm.to_string(),
                reason: e.to_string(),
            }
        })?;
        Self::from_key_pair(key_pair)
    }

    /// Loads a key from PEM.
    ///
    /// Accepted labels: `PRIVATE KEY` (PKCS#8), `ED25519 PRIVATE KEY` (PKCS#8,
    /// as Talos writes it) and `EC PRIVATE KEY` (SEC1). Only Ed25519 and
    /// ECDSA P-256 keys are supported.
    pub fn from_pem(text: &str) -> Result<Self> {
        let block = pem::parse(text).map_err(|e| PkiError::Pem {
            what: "private key",
            reason: e.to_string(),
        })?;
        let invalid = |reason: String| PkiError::InvalidKey { reason };
        let pkcs8 = match block.tag() {
            PEM_LABEL_PKCS8 | PEM_LABEL_ED25519 => block.contents().to_vec(),
            PEM_LABEL_EC => encoding::ec_sec1_to_pkcs8(block.contents()).map_err(invalid)?,
            other => {
                return Err(PkiError::UnexpectedPemLabel {
                    what: "private key",
                    label: other.to_string(),
                    expected: ACCEPTED_LABELS,
                })
            }
        };
        let key_pair = if encoding::pkcs8_is_ed25519(&pkcs8) {
            // Go and OpenSSL write Ed25519 PKCS#8 v1 (no public key); this accepts both versions.
            KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.as_slice().into(), &PKCS_ED25519)
        } else {
            KeyPair::try_from(pkcs8.as_slice())
        }
        .map_err(|e| {
            invalid(format!(
                "{e}; only unencrypted Ed25519 and ECDSA P-256 keys are supported"
            ))
        })?;
        if block.tag() == PEM_LABEL_ED25519 && *key_pair.algorithm() != PKCS_ED25519 {
            return Err(invalid(format!(
                "the '{PEM_LABEL_ED25519}' block does not hold an Ed25519 key"
            )));
        }
        Self::from_key_pair(key_pair)
    }

    fn from_key_pair(key_pair: KeyPair) -> Result<Self> {
        let algorithm =
            KeyAlgorithm::from_signature_algorithm(key_pair.algorithm()).ok_or_else(|| {
                PkiError::InvalidKey {
                    reason:
                        "unsupported key algorithm; only Ed25519 and ECDSA P-256 keys are supported"
                            .to_string(),
                }
            })?;
        let (label, der) = match algorithm {
            KeyAlgorithm::Ed25519 => (
                PEM_LABEL_ED25519,
                encoding::ed25519_pkcs8_v1(key_pair.serialized_der()),
            ),
            KeyAlgorithm::EcdsaP256 => (
                PEM_LABEL_EC,
                encoding::ec_pkcs8_to_sec1(key_pair.serialized_der(), key_pair.public_key_raw()),
            ),
        };
        let der = der.map_err(|reason| PkiError::InvalidKey { reason })?;
        let pem = pem::encode_config(
            &pem::Pem::new(label, der),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        );
        Ok(PrivateKey {
            key_pair,
            algorithm,
            pem,
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The key in the PEM form Talos writes: `ED25519 PRIVATE KEY` (PKCS#8 v1)
    /// for Ed25519 and `EC PRIVATE KEY` (SEC1) for ECDSA.
    pub fn to_pem(&self) -> &str {
        &self.pem
    }

    /// The key as generic PKCS#8 PEM (`PRIVATE KEY`), for tools that want that.
    pub fn to_pkcs8_pem(&self) -> String {
        self.key_pair.serialize_pem()
    }

    /// DER of the X.509 SubjectPublicKeyInfo of the public half.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.key_pair.subject_public_key_info()
    }

    /// The public half as PEM (`PUBLIC KEY`), e.g. for Kubernetes service-account verification.
    pub fn public_key_pem(&self) -> String {
        self.key_pair.public_key_pem()
    }

    pub(crate) fn key_pair(&self) -> &KeyPair {
        &self.key_pair
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_keys_use_talos_labels_and_reload() {
        for (alg, label) in [
            (KeyAlgorithm::Ed25519, PEM_LABEL_ED25519),
            (KeyAlgorithm::EcdsaP256, PEM_LABEL_EC),
        ] {
            let key = PrivateKey::generate(alg).unwrap();
            assert_eq!(key.algorithm(), alg);
            assert!(
                key.to_pem()
                    .starts_with(&format!("-----BEGIN {label}-----\n")),
                "{}",
                key.to_pem()
            );
            let again = PrivateKey::from_pem(key.to_pem()).unwrap();
            assert_eq!(again.public_key_der(), key.public_key_der());
            let via_pkcs8 = PrivateKey::from_pem(&key.to_pkcs8_pem()).unwrap();
            assert_eq!(via_pkcs8.public_key_der(), key.public_key_der());
            assert_eq!(via_pkcs8.to_pem(), key.to_pem());
        }
    }

    #[test]
    fn unknown_label_is_named() {
        let text = pem::encode(&pem::Pem::new("RSA PRIVATE KEY", vec![1, 2, 3]));
        let err = PrivateKey::from_pem(&text).unwrap_err().to_string();
        assert!(err.contains("RSA PRIVATE KEY"), "{err}");
        assert!(err.contains("EC PRIVATE KEY"), "{err}");
    }

    #[test]
    fn garbage_is_rejected() {
        let err = PrivateKey::from_pem("not a key").unwrap_err().to_string();
        assert!(err.contains("not valid PEM"), "{err}");
        let text = pem::encode(&pem::Pem::new(PEM_LABEL_PKCS8, vec![0x30, 0x00]));
        assert!(matches!(
            PrivateKey::from_pem(&text),
            Err(PkiError::InvalidKey { .. })
        ));
    }

    #[test]
    fn ed25519_label_with_ec_body_is_rejected() {
        let ec = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let body = pem::parse(ec.to_pkcs8_pem()).unwrap().into_contents();
        let text = pem::encode(&pem::Pem::new(PEM_LABEL_ED25519, body));
        let err = PrivateKey::from_pem(&text).unwrap_err().to_string();
        assert!(err.contains("does not hold an Ed25519 key"), "{err}");
    }
}
