//! The serialised shape of `secrets.yaml`, field for field as Talos writes it.
//!
//! Talos's keys are its Go field names lower-cased (`bootstraptoken`,
//! `k8saggregator`, ...). Certificates and keys are base64 of their PEM text.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The cluster's secrets: identity, tokens, encryption key and all CAs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsBundle {
    /// Cluster identity (discovery).
    pub cluster: ClusterSecrets,
    /// Kubernetes secrets.
    pub secrets: KubernetesSecrets,
    /// trustd credentials.
    #[serde(rename = "trustdinfo")]
    pub trustd_info: TrustdInfo,
    /// Certificate authorities and the service-account key.
    pub certs: Certs,
}

impl fmt::Debug for SecretsBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretsBundle")
            .field("cluster_id", &self.cluster.id)
            .finish_non_exhaustive()
    }
}

/// `cluster:` — the cluster's discovery identity.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSecrets {
    /// `cluster.id`: URL-safe base64 of 32 random bytes.
    pub id: String,
    /// `cluster.secret`: base64 of 32 random bytes.
    pub secret: String,
}

impl fmt::Debug for ClusterSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterSecrets")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// `secrets:` — Kubernetes bootstrap token and etcd encryption key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSecrets {
    /// `secrets.bootstraptoken`: `[a-z0-9]{6}.[a-z0-9]{16}`.
    #[serde(rename = "bootstraptoken")]
    pub bootstrap_token: String,
    /// `secrets.aescbcencryptionsecret`: legacy (Talos < 1.3) AES-CBC key, base64.
    #[serde(
        rename = "aescbcencryptionsecret",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub aescbc_encryption_secret: Option<String>,
    /// `secrets.secretboxencryptionsecret`: secretbox key, base64 of 32 bytes.
    #[serde(
        rename = "secretboxencryptionsecret",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub secretbox_encryption_secret: Option<String>,
}

impl fmt::Debug for KubernetesSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KubernetesSecrets { [redacted] }")
    }
}

/// `trustdinfo:` — the token nodes present to trustd.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustdInfo {
    /// `trustdinfo.token`.
    pub token: String,
}

impl fmt::Debug for TrustdInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TrustdInfo { [redacted] }")
    }
}

/// `certs:` — the CAs and the service-account key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certs {
    /// `certs.etcd`: etcd CA (ECDSA P-256, O=etcd).
    pub etcd: CertAndKeyPem,
    /// `certs.k8s`: Kubernetes CA (ECDSA P-256, O=kubernetes).
    pub k8s: CertAndKeyPem,
    /// `certs.k8saggregator`: front-proxy CA (ECDSA P-256, CN=front-proxy).
    #[serde(rename = "k8saggregator")]
    pub k8s_aggregator: CertAndKeyPem,
    /// `certs.k8sserviceaccount`: service-account signing key (ECDSA P-256).
    #[serde(rename = "k8sserviceaccount")]
    pub k8s_service_account: KeyPem,
    /// `certs.os`: OS API CA (Ed25519, O=basalt).
    pub os: CertAndKeyPem,
}

/// A certificate and its key, each PEM text (base64-wrapped in YAML).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertAndKeyPem {
    /// Certificate PEM.
    #[serde(with = "base64_pem")]
    pub crt: String,
    /// Private key PEM.
    #[serde(with = "base64_pem")]
    pub key: String,
}

impl fmt::Debug for CertAndKeyPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertAndKeyPem")
            .field("crt", &self.crt)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// A lone private key, PEM text (base64-wrapped in YAML).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPem {
    /// Private key PEM.
    #[serde(with = "base64_pem")]
    pub key: String,
}

impl fmt::Debug for KeyPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyPem { [redacted] }")
    }
}

/// Serde adapter: a PEM string stored as standard base64 of its bytes.
mod base64_pem {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(pem: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(pem.as_bytes()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        let text = String::deserialize(deserializer)?;
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = STANDARD.decode(compact.as_bytes()).map_err(|e| {
            D::Error::custom(format!(
                "not valid base64 ({e}); the value must be the base64 encoding of a PEM block"
            ))
        })?;
        String::from_utf8(bytes).map_err(|_| {
            D::Error::custom("base64 decodes to binary data, expected the text of a PEM block")
        })
    }
}
