//! A parsed, owned view of an X.509 certificate, for validation and tests.

use std::net::IpAddr;

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_SIG_ED25519};
use x509_parser::x509::X509Name;

use crate::error::{PkiError, Result};

/// PEM label of certificates.
pub const PEM_LABEL_CERTIFICATE: &str = "CERTIFICATE";

/// Algorithm of a certificate's public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKeyAlgorithm {
    /// Ed25519.
    Ed25519,
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// Anything else, named by its OID (and curve OID for EC keys).
    Other(String),
}

/// One extended key usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtKeyUsage {
    /// TLS server authentication (1.3.6.1.5.5.7.3.1).
    ServerAuth,
    /// TLS client authentication (1.3.6.1.5.5.7.3.2).
    ClientAuth,
    /// Any other purpose, by OID.
    Other(String),
}

/// The facts about a certificate that Basalt checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// First subject Common Name, if any.
    pub common_name: Option<String>,
    /// Subject Organizations (Basalt/Talos roles such as `os:admin` live here).
    pub organizations: Vec<String>,
    /// Issuer distinguished name, in OpenSSL-like text form.
    pub issuer: String,
    /// Serial number as lowercase hex.
    pub serial_hex: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// BasicConstraints CA:TRUE.
    pub is_ca: bool,
    /// KeyUsage digitalSignature.
    pub digital_signature: bool,
    /// KeyUsage keyCertSign.
    pub key_cert_sign: bool,
    /// Extended key usages, in certificate order.
    pub ext_key_usages: Vec<ExtKeyUsage>,
    /// DNS subject alternative names.
    pub dns_names: Vec<String>,
    /// IP subject alternative names.
    pub ip_addresses: Vec<IpAddr>,
    /// Public key algorithm.
    pub public_key_algorithm: PublicKeyAlgorithm,
    /// DER of the SubjectPublicKeyInfo.
    pub public_key_der: Vec<u8>,
    /// Subject Key Identifier extension, if present.
    pub subject_key_id: Option<Vec<u8>>,
    /// Key identifier of the Authority Key Identifier extension, if present.
    pub authority_key_id: Option<Vec<u8>>,
}

/// Decodes a `CERTIFICATE` PEM block into DER (the first block, if several).
pub fn certificate_der_from_pem(text: &str) -> Result<Vec<u8>> {
    let block = pem::parse(text).map_err(|e| PkiError::Pem {
        what: "certificate",
        reason: e.to_string(),
    })?;
    if block.tag() != PEM_LABEL_CERTIFICATE {
        return Err(PkiError::UnexpectedPemLabel {
            what: "certificate",
            label: block.tag().to_string(),
            expected: "'CERTIFICATE'",
        });
    }
    Ok(block.into_contents())
}

impl CertificateInfo {
    /// Parses the first `CERTIFICATE` block of `text`.
    pub fn from_pem(text: &str) -> Result<Self> {
        Self::from_der(&certificate_der_from_pem(text)?)
    }

    /// Parses a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let invalid = |reason: String| PkiError::InvalidCertificate { reason };
        let (rest, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|e| invalid(e.to_string()))?;
        if !rest.is_empty() {
            return Err(invalid("trailing bytes after the certificate".to_string()));
        }
        let (common_name, organizations) = name_parts(cert.subject());
        let mut info = CertificateInfo {
            common_name,
            organizations,
            issuer: cert.issuer().to_string(),
            serial_hex: cert
                .raw_serial()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            is_ca: cert.is_ca(),
            digital_signature: false,
            key_cert_sign: false,
            ext_key_usages: Vec::new(),
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            public_key_algorithm: public_key_algorithm(&cert),
            public_key_der: cert.public_key().raw.to_vec(),
            subject_key_id: None,
            authority_key_id: None,
        };
        info.read_extensions(&cert).map_err(invalid)?;
        Ok(info)
    }

    fn read_extensions(&mut self, cert: &X509Certificate<'_>) -> Result<(), String> {
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::KeyUsage(ku) => {
                    self.digital_signature = ku.digital_signature();
                    self.key_cert_sign = ku.key_cert_sign();
                }
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    if eku.server_auth {
                        self.ext_key_usages.push(ExtKeyUsage::ServerAuth);
                    }
                    if eku.client_auth {
                        self.ext_key_usages.push(ExtKeyUsage::ClientAuth);
                    }
                    for oid in &eku.other {
                        self.ext_key_usages
                            .push(ExtKeyUsage::Other(oid.to_id_string()));
                    }
                }
                ParsedExtension::SubjectAlternativeName(san) => {
                    for name in &san.general_names {
                        self.add_san(name)?;
                    }
                }
                ParsedExtension::SubjectKeyIdentifier(id) => {
                    self.subject_key_id = Some(id.0.to_vec());
                }
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    self.authority_key_id = aki.key_identifier.as_ref().map(|id| id.0.to_vec());
                }
                ParsedExtension::ParseError { error } => {
                    return Err(format!("extension {}: {error}", ext.oid.to_id_string()));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn add_san(&mut self, name: &GeneralName<'_>) -> Result<(), String> {
        match name {
            GeneralName::DNSName(dns) => self.dns_names.push((*dns).to_string()),
            GeneralName::IPAddress(bytes) => self.ip_addresses.push(ip_from_bytes(bytes)?),
            _ => {}
        }
        Ok(())
    }

    /// A short human description of the subject, e.g. `O=talos` or `CN=admin`.
    pub fn subject_display(&self) -> String {
        let mut parts: Vec<String> = self
            .organizations
            .iter()
            .map(|o| format!("O={o}"))
            .collect();
        if let Some(cn) = &self.common_name {
            parts.push(format!("CN={cn}"));
        }
        parts.join(", ")
    }

    /// True when `at` lies inside the validity window.
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

/// Converts the raw bytes of an iPAddress SAN (4 or 16 octets) into an address.
pub(crate) fn ip_from_bytes(bytes: &[u8]) -> Result<IpAddr, String> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Ok(IpAddr::from(v4));
    }
    if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        return Ok(IpAddr::from(v6));
    }
    Err(format!(
        "IP address SAN has {} bytes, expected 4 or 16",
        bytes.len()
    ))
}

/// First Common Name and all Organizations of a name; non-UTF-8 values are skipped.
pub(crate) fn name_parts(name: &X509Name<'_>) -> (Option<String>, Vec<String>) {
    let common_name = name
        .iter_common_name()
        .find_map(|attr| attr.as_str().ok())
        .map(str::to_string);
    let organizations = name
        .iter_organization()
        .filter_map(|attr| attr.as_str().ok())
        .map(str::to_string)
        .collect();
    (common_name, organizations)
}

fn public_key_algorithm(cert: &X509Certificate<'_>) -> PublicKeyAlgorithm {
    let alg = &cert.public_key().algorithm;
    if alg.algorithm == OID_SIG_ED25519 {
        return PublicKeyAlgorithm::Ed25519;
    }
    let curve = alg.parameters.as_ref().and_then(|p| p.as_oid().ok());
    if alg.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        if curve.as_ref() == Some(&OID_EC_P256) {
            return PublicKeyAlgorithm::EcdsaP256;
        }
        let curve = curve.map(|c| c.to_id_string()).unwrap_or_default();
        return PublicKeyAlgorithm::Other(format!("EC {curve}"));
    }
    PublicKeyAlgorithm::Other(alg.algorithm.to_id_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rejects_non_certificates() {
        let err = CertificateInfo::from_pem("garbage")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not valid PEM"), "{err}");
        let key = pem::encode(&pem::Pem::new("PRIVATE KEY", vec![1]));
        let err = CertificateInfo::from_pem(&key).unwrap_err().to_string();
        assert!(err.contains("'PRIVATE KEY'"), "{err}");
        let bogus = pem::encode(&pem::Pem::new("CERTIFICATE", vec![0x30, 0x01, 0x00]));
        assert!(matches!(
            CertificateInfo::from_pem(&bogus),
            Err(PkiError::InvalidCertificate { .. })
        ));
    }

    #[test]
    fn ip_bytes_convert() {
        assert_eq!(
            ip_from_bytes(&[10, 0, 0, 1]).unwrap().to_string(),
            "10.0.0.1"
        );
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(ip_from_bytes(&v6).unwrap().to_string(), "::1");
        assert!(ip_from_bytes(&[1, 2, 3]).is_err());
    }
}
