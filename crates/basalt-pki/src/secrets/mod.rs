//! The cluster secrets bundle (`secrets.yaml`), compatible with Talos's layout.

mod file;
mod model;

pub use file::SECRETS_FILE_MODE;
pub use model::{
    CertAndKeyPem, Certs, ClusterSecrets, KeyPem, KubernetesSecrets, SecretsBundle, TrustdInfo,
};

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::engine::GeneralPurpose;
use base64::Engine;

use crate::ca::{CaSubject, CertificateAuthority, CA_LIFETIME};
use crate::error::{PkiError, Result};
use crate::keys::{KeyAlgorithm, PrivateKey};
use crate::token::{generate_token, is_valid_token, random_base64, random_base64_url};

/// Organization of the OS API CA (Talos uses `talos`).
pub const OS_CA_ORGANIZATION: &str = "basalt";
/// Organization of the Kubernetes CA.
pub const KUBERNETES_CA_ORGANIZATION: &str = "kubernetes";
/// Organization of the etcd CA.
pub const ETCD_CA_ORGANIZATION: &str = "etcd";
/// Common Name of the aggregator (front-proxy) CA.
pub const AGGREGATOR_CA_COMMON_NAME: &str = "front-proxy";
/// Size in bytes of the random cluster id, cluster secret and encryption secret.
pub const SECRET_SIZE: usize = 32;

impl CertAndKeyPem {
    fn from_ca(ca: &CertificateAuthority) -> Self {
        CertAndKeyPem {
            crt: ca.cert_pem().to_string(),
            key: ca.key_pem().to_string(),
        }
    }

    /// Loads this pair as a CA; errors are prefixed with `field`.
    fn to_ca(&self, field: &str) -> Result<CertificateAuthority> {
        CertificateAuthority::from_pem(&self.crt, &self.key).map_err(|e| e.in_field(field))
    }
}

impl SecretsBundle {
    /// Generates all secrets: cluster id and secret, bootstrap and trustd
    /// tokens, a secretbox key, the OS CA (Ed25519), the Kubernetes,
    /// aggregator and etcd CAs (ECDSA P-256, 10 years) and the
    /// service-account key (ECDSA P-256).
    pub fn generate() -> Result<Self> {
        let ca = |subject: CaSubject, alg| {
            CertificateAuthority::generate(&subject, alg, CA_LIFETIME)
                .map(|ca| CertAndKeyPem::from_ca(&ca))
        };
        let p256 = KeyAlgorithm::EcdsaP256;
        let certs = Certs {
            etcd: ca(CaSubject::organization(ETCD_CA_ORGANIZATION), p256)?,
            k8s: ca(CaSubject::organization(KUBERNETES_CA_ORGANIZATION), p256)?,
            k8s_aggregator: ca(CaSubject::common_name(AGGREGATOR_CA_COMMON_NAME), p256)?,
            k8s_service_account: KeyPem {
                key: PrivateKey::generate(p256)?.to_pem().to_string(),
            },
            os: ca(
                CaSubject::organization(OS_CA_ORGANIZATION),
                KeyAlgorithm::Ed25519,
            )?,
        };
        Ok(SecretsBundle {
            cluster: ClusterSecrets {
                id: random_base64_url(SECRET_SIZE)?,
                secret: random_base64(SECRET_SIZE)?,
            },
            secrets: KubernetesSecrets {
                bootstrap_token: generate_token()?,
                aescbc_encryption_secret: None,
                secretbox_encryption_secret: Some(random_base64(SECRET_SIZE)?),
            },
            trustd_info: TrustdInfo {
                token: generate_token()?,
            },
            certs,
        })
    }

    /// The OS API CA (`certs.os`).
    pub fn os_ca(&self) -> Result<CertificateAuthority> {
        self.certs.os.to_ca("certs.os")
    }

    /// The Kubernetes CA (`certs.k8s`).
    pub fn kubernetes_ca(&self) -> Result<CertificateAuthority> {
        self.certs.k8s.to_ca("certs.k8s")
    }

    /// The Kubernetes aggregator / front-proxy CA (`certs.k8saggregator`).
    pub fn aggregator_ca(&self) -> Result<CertificateAuthority> {
        self.certs.k8s_aggregator.to_ca("certs.k8saggregator")
    }

    /// The etcd CA (`certs.etcd`).
    pub fn etcd_ca(&self) -> Result<CertificateAuthority> {
        self.certs.etcd.to_ca("certs.etcd")
    }

    /// The Kubernetes service-account signing key (`certs.k8sserviceaccount.key`).
    pub fn service_account_key(&self) -> Result<PrivateKey> {
        PrivateKey::from_pem(&self.certs.k8s_service_account.key)
            .map_err(|e| e.in_field("certs.k8sserviceaccount.key"))
    }

    /// Checks every field; the error names the first bad field and why.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, reason: String| PkiError::InvalidField {
            field: field.to_string(),
            reason,
        };
        // Talos writes the id URL-safe; accept standard base64 too.
        require_base64(
            "cluster.id",
            &self.cluster.id,
            &[&URL_SAFE, &STANDARD],
            &[SECRET_SIZE],
        )?;
        require_base64(
            "cluster.secret",
            &self.cluster.secret,
            &[&STANDARD],
            &[SECRET_SIZE],
        )?;
        if !is_valid_token(&self.secrets.bootstrap_token) {
            return Err(bad(
                "secrets.bootstraptoken",
                "must match [a-z0-9]{6}.[a-z0-9]{16} (Kubernetes bootstrap token format)"
                    .to_string(),
            ));
        }
        match (
            &self.secrets.secretbox_encryption_secret,
            &self.secrets.aescbc_encryption_secret,
        ) {
            (Some(secretbox), None) => require_base64(
                "secrets.secretboxencryptionsecret",
                secretbox,
                &[&STANDARD],
                &[32],
            )?,
            (None, Some(aescbc)) => require_base64(
                "secrets.aescbcencryptionsecret",
                aescbc,
                &[&STANDARD],
                &[16, 24, 32],
            )?,
            _ => return Err(bad(
                "secrets",
                "exactly one of secretboxencryptionsecret and aescbcencryptionsecret must be set"
                    .to_string(),
            )),
        }
        if self.trustd_info.token.trim().is_empty() {
            return Err(bad(
                "trustdinfo.token",
                "must not be empty; generate one with `basaltctl gen secrets`".to_string(),
            ));
        }
        self.etcd_ca()?;
        self.kubernetes_ca()?;
        self.aggregator_ca()?;
        self.service_account_key()?;
        self.os_ca()?;
        Ok(())
    }
}

fn require_base64(
    field: &str,
    value: &str,
    engines: &[&GeneralPurpose],
    lengths: &[usize],
) -> Result<()> {
    let bad = |reason: String| PkiError::InvalidField {
        field: field.to_string(),
        reason,
    };
    let bytes = engines
        .iter()
        .find_map(|engine| engine.decode(value).ok())
        .ok_or_else(|| bad("not valid base64".to_string()))?;
    if !lengths.contains(&bytes.len()) {
        return Err(bad(format!(
            "decodes to {} bytes, expected {}",
            bytes.len(),
            lengths
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
