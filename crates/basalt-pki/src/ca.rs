//! Self-signed certificate authorities.

use std::fmt;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::error::{PkiError, Result};
use crate::inspect::{certificate_der_from_pem, CertificateInfo};
use crate::keys::{KeyAlgorithm, PrivateKey};
use crate::validity;

/// Default CA lifetime: 10 years (87600 hours), as Talos uses.
pub const CA_LIFETIME: Duration = Duration::from_secs(87_600 * 3600);

/// Subject of a CA certificate. Talos names its CAs by Organization
/// (`talos`, `kubernetes`, `etcd`) or by Common Name (`front-proxy`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaSubject {
    /// Common Name (CN), if any.
    pub common_name: Option<String>,
    /// Organization (O), if any.
    pub organization: Option<String>,
}

impl CaSubject {
    /// A subject with only an Organization.
    pub fn organization(org: impl Into<String>) -> Self {
        CaSubject {
            common_name: None,
            organization: Some(org.into()),
        }
    }

    /// A subject with only a Common Name.
    pub fn common_name(cn: impl Into<String>) -> Self {
        CaSubject {
            common_name: Some(cn.into()),
            organization: None,
        }
    }

    fn to_distinguished_name(&self) -> Result<DistinguishedName> {
        let mut dn = DistinguishedName::new();
        if let Some(org) = non_empty(&self.organization) {
            dn.push(DnType::OrganizationName, org);
        }
        if let Some(cn) = non_empty(&self.common_name) {
            dn.push(DnType::CommonName, cn);
        }
        if dn.iter().next().is_none() {
            return Err(PkiError::InvalidRequest {
                field: "subject",
                value: String::new(),
                reason: "a CA needs a Common Name or an Organization".to_string(),
            });
        }
        Ok(dn)
    }
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

/// A certificate authority: its certificate and private key.
pub struct CertificateAuthority {
    cert_pem: String,
    cert_der: Vec<u8>,
    key: PrivateKey,
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("cert_pem", &self.cert_pem)
            .field("key", &self.key)
            .finish()
    }
}

impl CertificateAuthority {
    /// Generates a new key and a self-signed CA certificate valid from one
    /// minute ago for `lifetime` (use [`CA_LIFETIME`] for the default 10 years).
    ///
    /// The certificate has BasicConstraints CA:TRUE (critical), KeyUsage
    /// digitalSignature + keyCertSign + cRLSign (critical) and a Subject Key Identifier.
    pub fn generate(
        subject: &CaSubject,
        algorithm: KeyAlgorithm,
        lifetime: Duration,
    ) -> Result<Self> {
        let key = PrivateKey::generate(algorithm)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = subject.to_distinguished_name()?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        validity::apply(&mut params, lifetime)?;
        let cert = params
            .self_signed(key.key_pair())
            .map_err(PkiError::signing)?;
        Ok(CertificateAuthority {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key,
        })
    }

    /// Loads a CA from its certificate and key PEM.
    ///
    /// Fails if the certificate is not a CA (BasicConstraints CA:TRUE) or the
    /// key does not belong to the certificate.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self> {
        let cert_der = certificate_der_from_pem(cert_pem)?;
        let info = CertificateInfo::from_der(&cert_der)?;
        if !info.is_ca {
            return Err(PkiError::NotACa {
                subject: info.subject_display(),
            });
        }
        let key = PrivateKey::from_pem(key_pem)?;
        if key.public_key_der() != info.public_key_der {
            return Err(PkiError::KeyMismatch);
        }
        Ok(CertificateAuthority {
            cert_pem: cert_pem.to_string(),
            cert_der,
            key,
        })
    }

    /// The CA certificate as PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate as DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The CA private key in Talos's PEM form (see [`PrivateKey::to_pem`]).
    pub fn key_pem(&self) -> &str {
        self.key.to_pem()
    }

    /// The CA private key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The algorithm of the CA key.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.key.algorithm()
    }

    /// Parsed view of the CA certificate.
    pub fn info(&self) -> Result<CertificateInfo> {
        CertificateInfo::from_der(&self.cert_der)
    }

    /// An rcgen issuer for signing leaves with this CA (subject, key id and key from the certificate).
    pub(crate) fn issuer(&self) -> Result<Issuer<'static, &KeyPair>> {
        Issuer::from_ca_cert_der(&self.cert_der.as_slice().into(), self.key.key_pair())
            .map_err(PkiError::signing)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::inspect::PublicKeyAlgorithm;

    #[test]
    fn generated_ca_has_ca_properties() {
        let ca = CertificateAuthority::generate(
            &CaSubject::organization("basalt"),
            KeyAlgorithm::Ed25519,
            CA_LIFETIME,
        )
        .unwrap();
        let info = ca.info().unwrap();
        assert!(info.is_ca);
        assert_eq!(info.organizations, vec!["basalt".to_string()]);
        assert_eq!(info.common_name, None);
        assert_eq!(info.public_key_algorithm, PublicKeyAlgorithm::Ed25519);
        assert!(info.subject_key_id.is_some());
        assert!(info.key_cert_sign);
        let years = (info.not_after - info.not_before).whole_days() / 365;
        assert_eq!(years, 10);
    }

    #[test]
    fn from_pem_round_trips() {
        let ca = CertificateAuthority::generate(
            &CaSubject::common_name("front-proxy"),
            KeyAlgorithm::EcdsaP256,
            CA_LIFETIME,
        )
        .unwrap();
        let again = CertificateAuthority::from_pem(ca.cert_pem(), ca.key_pem()).unwrap();
        assert_eq!(again.cert_der(), ca.cert_der());
        assert_eq!(again.algorithm(), KeyAlgorithm::EcdsaP256);
        assert_eq!(
            again.info().unwrap().common_name.as_deref(),
            Some("front-proxy")
        );
    }

    #[test]
    fn from_pem_rejects_a_key_of_another_ca() {
        let subject = CaSubject::organization("etcd");
        let a =
            CertificateAuthority::generate(&subject, KeyAlgorithm::EcdsaP256, CA_LIFETIME).unwrap();
        let b =
            CertificateAuthority::generate(&subject, KeyAlgorithm::EcdsaP256, CA_LIFETIME).unwrap();
        let err = CertificateAuthority::from_pem(a.cert_pem(), b.key_pem()).unwrap_err();
        assert!(matches!(err, PkiError::KeyMismatch), "{err}");
        assert!(err.to_string().contains("does not match"));
    }

    #[test]
    fn empty_subject_is_rejected() {
        let err = CertificateAuthority::generate(
            &CaSubject::default(),
            KeyAlgorithm::Ed25519,
            CA_LIFETIME,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("Common Name or an Organization"),
            "{err}"
        );
    }
}
