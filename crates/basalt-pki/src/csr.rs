//! Certificate signing requests: creating them (clients) and signing them (CAs).
//!
//! When signing, the CA keeps only the requester's public key, Common Name and
//! DNS/IP subject alternative names. Usages, lifetime, the CA flag and the
//! Organization come from the CA's [`LeafProfile`]; whatever extensions the
//! request asks for are ignored.

use std::net::IpAddr;
use std::time::Duration;

use rcgen::{CertificateParams, DistinguishedName, DnType, SubjectPublicKeyInfo};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use crate::ca::CertificateAuthority;
use crate::error::{PkiError, Result};
use crate::inspect::{ip_from_bytes, name_parts};
use crate::keys::PrivateKey;
use crate::leaf::{LeafTemplate, Usage};

/// PEM label of certificate signing requests.
pub const PEM_LABEL_CSR: &str = "CERTIFICATE REQUEST";

/// Where the Organization of a CSR-signed certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrganizationPolicy {
    /// No Organization at all (trustd's node certificates: no roles).
    Empty,
    /// Exactly these Organizations, whatever the request says.
    Fixed(Vec<String>),
    /// Copy the request's Organizations. Only for requesters already trusted with them.
    FromRequest,
}

/// What a CA grants to every request it signs under this profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafProfile {
    /// ExtKeyUsages to grant.
    pub usage: Usage,
    /// Validity from now.
    pub lifetime: Duration,
    /// Organization policy.
    pub organizations: OrganizationPolicy,
}

/// Creates a PEM CSR for `key` with subject CN `common_name` and the given
/// SANs (each parsed as an IP address if it is one, otherwise a DNS name).
pub fn generate_csr(key: &PrivateKey, common_name: &str, sans: &[String]) -> Result<String> {
    let mut params =
        CertificateParams::new(sans.to_vec()).map_err(|e| PkiError::InvalidRequest {
            field: "sans",
            value: sans.join(","),
            reason: e.to_string(),
        })?;
    let mut dn = DistinguishedName::new();
    if !common_name.is_empty() {
        dn.push(DnType::CommonName, common_name);
    }
    params.distinguished_name = dn;
    let csr = params
        .serialize_request(key.key_pair())
        .map_err(PkiError::signing)?;
    csr.pem().map_err(PkiError::signing)
}

/// The parts of a verified CSR the CA may use.
struct VerifiedCsr {
    public_key: SubjectPublicKeyInfo,
    common_name: String,
    organizations: Vec<String>,
    dns_names: Vec<String>,
    ip_addresses: Vec<IpAddr>,
}

fn parse_csr(csr_pem: &str) -> Result<VerifiedCsr> {
    let invalid = |reason: String| PkiError::InvalidCsr { reason };
    let block = pem::parse(csr_pem).map_err(|e| PkiError::Pem {
        what: "certificate signing request",
        reason: e.to_string(),
    })?;
    if block.tag() != PEM_LABEL_CSR && block.tag() != "NEW CERTIFICATE REQUEST" {
        return Err(PkiError::UnexpectedPemLabel {
            what: "certificate signing request",
            label: block.tag().to_string(),
            expected: "'CERTIFICATE REQUEST'",
        });
    }
    let (_, csr) = X509CertificationRequest::from_der(block.contents())
        .map_err(|e| invalid(format!("cannot decode: {e}")))?;
    csr.verify_signature().map_err(|e| {
        invalid(format!(
            "signature check failed ({e}); the request was not signed by the key it contains"
        ))
    })?;
    let info = &csr.certification_request_info;
    let public_key = SubjectPublicKeyInfo::from_der(info.subject_pki.raw).map_err(|_| {
        invalid("unsupported public key; use an Ed25519 or ECDSA P-256 key".to_string())
    })?;
    let (common_name, organizations) = name_parts(&info.subject);
    let mut verified = VerifiedCsr {
        public_key,
        common_name: common_name.unwrap_or_default(),
        organizations,
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
    };
    for ext in csr.requested_extensions().into_iter().flatten() {
        if let ParsedExtension::SubjectAlternativeName(san) = ext {
            for name in &san.general_names {
                match name {
                    GeneralName::DNSName(dns) => verified.dns_names.push((*dns).to_string()),
                    GeneralName::IPAddress(bytes) => verified
                        .ip_addresses
                        .push(ip_from_bytes(bytes).map_err(invalid)?),
                    _ => {}
                }
            }
        }
    }
    Ok(verified)
}

/// Verifies `csr_pem` and signs a certificate for its key under `profile`.
/// Returns the certificate PEM.
pub fn sign_csr(ca: &CertificateAuthority, csr_pem: &str, profile: &LeafProfile) -> Result<String> {
    let csr = parse_csr(csr_pem)?;
    let organizations = match &profile.organizations {
        OrganizationPolicy::Empty => Vec::new(),
        OrganizationPolicy::Fixed(orgs) => orgs.clone(),
        OrganizationPolicy::FromRequest => csr.organizations.clone(),
    };
    let template = LeafTemplate {
        common_name: &csr.common_name,
        organizations: &organizations,
        dns_names: &csr.dns_names,
        ip_addresses: &csr.ip_addresses,
        usage: profile.usage,
        lifetime: profile.lifetime,
    };
    template.sign(ca, &csr.public_key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ca::{CaSubject, CA_LIFETIME};
    use crate::inspect::{CertificateInfo, ExtKeyUsage};
    use crate::keys::KeyAlgorithm;
    use rcgen::{BasicConstraints, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose};

    fn os_ca() -> CertificateAuthority {
        CertificateAuthority::generate(
            &CaSubject::organization("basalt"),
            KeyAlgorithm::Ed25519,
            CA_LIFETIME,
        )
        .unwrap()
    }

    fn profile(organizations: OrganizationPolicy) -> LeafProfile {
        LeafProfile {
            usage: Usage::SERVER,
            lifetime: Duration::from_secs(600),
            organizations,
        }
    }

    /// A CSR that asks for everything: CA:TRUE, keyCertSign, clientAuth, os:admin.
    fn greedy_csr(key: &PrivateKey) -> String {
        let mut params =
            CertificateParams::new(vec!["node-1".to_string(), "10.5.0.2".to_string()]).unwrap();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, "node-1");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "os:admin");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params
            .serialize_request(key.key_pair())
            .unwrap()
            .pem()
            .unwrap()
    }

    #[test]
    fn signing_ignores_what_the_request_asks_for() {
        let ca = os_ca();
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let cert = sign_csr(&ca, &greedy_csr(&key), &profile(OrganizationPolicy::Empty)).unwrap();
        let info = CertificateInfo::from_pem(&cert).unwrap();
        assert!(!info.is_ca);
        assert!(!info.key_cert_sign);
        assert!(info.organizations.is_empty());
        assert_eq!(info.ext_key_usages, vec![ExtKeyUsage::ServerAuth]);
        assert_eq!(info.common_name.as_deref(), Some("node-1"));
        assert_eq!(info.dns_names, vec!["node-1".to_string()]);
        assert_eq!(
            info.ip_addresses,
            vec!["10.5.0.2".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(info.public_key_der, key.public_key_der());
        assert_eq!((info.not_after - info.not_before).whole_seconds(), 660);
    }

    #[test]
    fn organization_policies() {
        let ca = os_ca();
        let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let csr = greedy_csr(&key);
        let fixed = OrganizationPolicy::Fixed(vec!["os:reader".to_string()]);
        let cert = sign_csr(&ca, &csr, &profile(fixed)).unwrap();
        let orgs = CertificateInfo::from_pem(&cert).unwrap().organizations;
        assert_eq!(orgs, vec!["os:reader".to_string()]);
        let cert = sign_csr(&ca, &csr, &profile(OrganizationPolicy::FromRequest)).unwrap();
        let orgs = CertificateInfo::from_pem(&cert).unwrap().organizations;
        assert_eq!(orgs, vec!["os:admin".to_string()]);
    }

    #[test]
    fn generated_csr_signs() {
        let ca = os_ca();
        let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let csr = generate_csr(&key, "worker-1", &["worker-1.local".to_string()]).unwrap();
        assert!(csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
        let cert = sign_csr(&ca, &csr, &profile(OrganizationPolicy::Empty)).unwrap();
        let info = CertificateInfo::from_pem(&cert).unwrap();
        assert_eq!(info.dns_names, vec!["worker-1.local".to_string()]);
    }

    #[test]
    fn tampered_csr_is_rejected() {
        let ca = os_ca();
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let csr = generate_csr(&key, "node-1", &[]).unwrap();
        let mut der = pem::parse(&csr).unwrap().into_contents();
        // Flip one byte of the subject CN ("node-1" -> "node-2").
        let pos = der.windows(6).position(|w| w == b"node-1").unwrap();
        der[pos + 5] = b'2';
        let tampered = pem::encode(&pem::Pem::new(PEM_LABEL_CSR, der));
        let err = sign_csr(&ca, &tampered, &profile(OrganizationPolicy::Empty)).unwrap_err();
        assert!(err.to_string().contains("signature"), "{err}");
        let err = sign_csr(&ca, ca.cert_pem(), &profile(OrganizationPolicy::Empty)).unwrap_err();
        assert!(err.to_string().contains("'CERTIFICATE'"), "{err}");
    }
}
