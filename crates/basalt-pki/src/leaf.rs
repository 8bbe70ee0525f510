//! Issuing end-entity (leaf) certificates from a CA.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose,
    PublicKeyData, SanType,
};

use crate::ca::CertificateAuthority;
use crate::error::{PkiError, Result};
use crate::keys::{KeyAlgorithm, PrivateKey};
use crate::validity;

/// Lifetime of the admin client certificate `gen config` writes: 1 year (8760 hours).
pub const ADMIN_CERT_LIFETIME: Duration = Duration::from_secs(8_760 * 3600);

/// Common Name of client certificates made by [`issue_client_certificate`].
pub const CLIENT_COMMON_NAME: &str = "admin";

/// Which TLS roles a certificate may play (its Extended Key Usage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// ExtKeyUsage serverAuth.
    pub server: bool,
    /// ExtKeyUsage clientAuth.
    pub client: bool,
}

impl Usage {
    /// Server only.
    pub const SERVER: Usage = Usage {
        server: true,
        client: false,
    };
    /// Client only.
    pub const CLIENT: Usage = Usage {
        server: false,
        client: true,
    };
    /// Both server and client.
    pub const SERVER_AND_CLIENT: Usage = Usage {
        server: true,
        client: true,
    };
}

/// Everything needed to issue a leaf certificate with a fresh key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafRequest {
    /// Subject Common Name (may be empty for no CN).
    pub common_name: String,
    /// Subject Organizations; Basalt roles such as `os:admin` go here.
    pub organizations: Vec<String>,
    /// DNS subject alternative names.
    pub dns_names: Vec<String>,
    /// IP subject alternative names.
    pub ip_addresses: Vec<IpAddr>,
    /// Server and/or client authentication.
    pub usage: Usage,
    /// How long the certificate is valid from now.
    pub lifetime: Duration,
    /// Algorithm of the new key.
    pub algorithm: KeyAlgorithm,
}

/// A freshly issued certificate and its private key.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedCertificate {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PEM in Talos's labels (see [`PrivateKey::to_pem`]).
    pub key_pem: String,
}

impl fmt::Debug for IssuedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCertificate")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"[redacted]")
            .finish()
    }
}

/// The subject, names, usage and lifetime of a leaf, as the CA decides them.
pub(crate) struct LeafTemplate<'a> {
    pub common_name: &'a str,
    pub organizations: &'a [String],
    pub dns_names: &'a [String],
    pub ip_addresses: &'a [IpAddr],
    pub usage: Usage,
    pub lifetime: Duration,
}

impl LeafTemplate<'_> {
    /// Builds rcgen parameters: KeyUsage digitalSignature, the requested
    /// ExtKeyUsages only, CA:FALSE, SKI + AKI, backdated start, random serial.
    pub(crate) fn to_params(&self) -> Result<CertificateParams> {
        if !self.usage.server && !self.usage.client {
            return Err(PkiError::InvalidRequest {
                field: "usage",
                value: "none".to_string(),
                reason: "a leaf certificate must allow server and/or client authentication"
                    .to_string(),
            });
        }
        // rcgen keeps one value per attribute type, so a second Organization would silently
        // replace the first; refuse instead of issuing a certificate with fewer roles.
        if self.organizations.len() > 1 {
            return Err(PkiError::InvalidRequest {
                field: "organizations",
                value: self.organizations.join(","),
                reason: "only one Organization (role) per certificate is supported; issue one \
                         certificate per role (os:admin already includes every other role)"
                    .to_string(),
            });
        }
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        for org in self.organizations {
            dn.push(DnType::OrganizationName, org.as_str());
        }
        if !self.common_name.is_empty() {
            dn.push(DnType::CommonName, self.common_name);
        }
        params.distinguished_name = dn;
        for name in self.dns_names {
            params.subject_alt_names.push(dns_san(name)?);
        }
        for ip in self.ip_addresses {
            params.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if self.usage.server {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ServerAuth);
        }
        if self.usage.client {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth);
        }
        params.use_authority_key_identifier_extension = true;
        validity::apply(&mut params, self.lifetime)?;
        Ok(params)
    }

    /// Signs a certificate for `public_key` with `ca`; returns its PEM.
    pub(crate) fn sign(
        &self,
        ca: &CertificateAuthority,
        public_key: &impl PublicKeyData,
    ) -> Result<String> {
        let params = self.to_params()?;
        let cert = params
            .signed_by(public_key, &ca.issuer()?)
            .map_err(PkiError::signing)?;
        Ok(cert.pem())
    }
}

fn dns_san(name: &str) -> Result<SanType> {
    let reject = |reason: &str| PkiError::InvalidRequest {
        field: "dns_names",
        value: name.to_string(),
        reason: reason.to_string(),
    };
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '*' | '_'));
    if name.is_empty() || !valid_chars {
        return Err(reject(
            "a DNS name may only contain ASCII letters, digits, '-', '_', '.' and '*'",
        ));
    }
    let ia5 = name
        .try_into()
        .map_err(|_| reject("not an IA5 (ASCII) string"))?;
    Ok(SanType::DnsName(ia5))
}

impl CertificateAuthority {
    /// Issues a leaf certificate with a freshly generated key.
    pub fn issue(&self, request: &LeafRequest) -> Result<IssuedCertificate> {
        let key = PrivateKey::generate(request.algorithm)?;
        let template = LeafTemplate {
            common_name: &request.common_name,
            organizations: &request.organizations,
            dns_names: &request.dns_names,
            ip_addresses: &request.ip_addresses,
            usage: request.usage,
            lifetime: request.lifetime,
        };
        let cert_pem = template.sign(self, key.key_pair())?;
        Ok(IssuedCertificate {
            cert_pem,
            key_pem: key.to_pem().to_string(),
        })
    }
}

/// Issues an OS API client certificate: CN [`CLIENT_COMMON_NAME`], Organization =
/// `roles` (e.g. `["os:admin"]`), ClientAuth only, key of the CA's algorithm.
pub fn issue_client_certificate(
    os_ca: &CertificateAuthority,
    roles: &[&str],
    lifetime: Duration,
) -> Result<IssuedCertificate> {
    os_ca.issue(&LeafRequest {
        common_name: CLIENT_COMMON_NAME.to_string(),
        organizations: roles.iter().map(|r| r.to_string()).collect(),
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        usage: Usage::CLIENT,
        lifetime,
        algorithm: os_ca.algorithm(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ca::{CaSubject, CA_LIFETIME};
    use crate::inspect::{CertificateInfo, ExtKeyUsage};

    fn ca(alg: KeyAlgorithm) -> CertificateAuthority {
        CertificateAuthority::generate(&CaSubject::organization("basalt"), alg, CA_LIFETIME)
            .unwrap()
    }

    fn request(usage: Usage) -> LeafRequest {
        LeafRequest {
            common_name: "node-1".to_string(),
            organizations: vec![],
            dns_names: vec!["node-1.example.org".to_string()],
            ip_addresses: vec!["10.5.0.2".parse().unwrap(), "fd00::2".parse().unwrap()],
            usage,
            lifetime: Duration::from_secs(3600),
            algorithm: KeyAlgorithm::EcdsaP256,
        }
    }

    #[test]
    fn server_leaf_has_exactly_the_requested_fields() {
        let ca = ca(KeyAlgorithm::EcdsaP256);
        let issued = ca.issue(&request(Usage::SERVER)).unwrap();
        let info = CertificateInfo::from_pem(&issued.cert_pem).unwrap();
        let ca_info = ca.info().unwrap();
        assert_eq!(info.common_name.as_deref(), Some("node-1"));
        assert!(info.organizations.is_empty());
        assert_eq!(info.ext_key_usages, vec![ExtKeyUsage::ServerAuth]);
        assert!(info.digital_signature && !info.key_cert_sign && !info.is_ca);
        assert_eq!(info.dns_names, vec!["node-1.example.org".to_string()]);
        assert_eq!(info.ip_addresses, request(Usage::SERVER).ip_addresses);
        assert_eq!(info.authority_key_id, ca_info.subject_key_id);
        assert_eq!(info.issuer, "O=basalt");
        assert_eq!((info.not_after - info.not_before).whole_seconds(), 3660);
        let key = PrivateKey::from_pem(&issued.key_pem).unwrap();
        assert_eq!(key.public_key_der(), info.public_key_der);
    }

    #[test]
    fn client_certificate_carries_roles() {
        let ca = ca(KeyAlgorithm::Ed25519);
        let issued = issue_client_certificate(&ca, &["os:admin"], ADMIN_CERT_LIFETIME).unwrap();
        let info = CertificateInfo::from_pem(&issued.cert_pem).unwrap();
        assert_eq!(info.organizations, vec!["os:admin".to_string()]);
        assert_eq!(info.common_name.as_deref(), Some(CLIENT_COMMON_NAME));
        assert_eq!(info.ext_key_usages, vec![ExtKeyUsage::ClientAuth]);
        assert!(issued
            .key_pem
            .starts_with("-----BEGIN ED25519 PRIVATE KEY-----"));
        assert!(!format!("{issued:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn both_usages_and_serials_differ() {
        let ca = ca(KeyAlgorithm::EcdsaP256);
        let a = ca.issue(&request(Usage::SERVER_AND_CLIENT)).unwrap();
        let b = ca.issue(&request(Usage::SERVER_AND_CLIENT)).unwrap();
        let a = CertificateInfo::from_pem(&a.cert_pem).unwrap();
        let b = CertificateInfo::from_pem(&b.cert_pem).unwrap();
        assert_eq!(
            a.ext_key_usages,
            vec![ExtKeyUsage::ServerAuth, ExtKeyUsage::ClientAuth]
        );
        assert_ne!(a.serial_hex, b.serial_hex);
    }

    #[test]
    fn bad_requests_are_rejected_with_the_field() {
        let ca = ca(KeyAlgorithm::EcdsaP256);
        let err = ca.issue(&request(Usage::default())).unwrap_err();
        assert!(err.to_string().contains("usage"), "{err}");
        let mut bad_dns = request(Usage::SERVER);
        bad_dns.dns_names = vec!["bad name".to_string()];
        let err = ca.issue(&bad_dns).unwrap_err().to_string();
        assert!(
            err.contains("dns_names") && err.contains("bad name"),
            "{err}"
        );
    }

    #[test]
    fn several_roles_are_refused_rather_than_dropped() {
        let err = issue_client_certificate(
            &ca(KeyAlgorithm::Ed25519),
            &["os:reader", "os:etcd:backup"],
            Duration::from_secs(60),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("one Organization"), "{err}");
    }
}
