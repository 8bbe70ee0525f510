//! What trustd signs: the CA decides, not the request.
//!
//! The certificate gets the request's public key, Common Name and DNS/IP SANs; its
//! usage is ServerAuth only and it has no Organization, so it carries no role and can
//! never authenticate as a client to apid. A request naming any other kind of SAN
//! (URI, e-mail, …) or a wildcard DNS name is refused, as is one larger than
//! [`MAX_CSR_BYTES`].

use std::time::Duration;

use basalt_pki::{
    sign_csr, CertificateAuthority, LeafProfile, OrganizationPolicy, PkiError, Usage,
};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

/// The largest CSR (PEM bytes) trustd reads. A node's CSR is well under 2 KiB.
pub const MAX_CSR_BYTES: usize = 16 * 1024;

/// The most SANs a request may name.
pub const MAX_SANS: usize = 64;

/// Why a request was not signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The CSR is too large.
    #[error("the CSR has {size} bytes; trustd reads at most {MAX_CSR_BYTES}")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// The CSR is not PEM/DER of a certification request.
    #[error("the CSR cannot be read: {0}")]
    Malformed(String),
    /// The CSR names a SAN kind trustd does not grant.
    #[error("the CSR asks for a {kind} subject alternative name ({value}); trustd signs only DNS names and IP addresses")]
    ForbiddenSan {
        /// The kind, e.g. `URI`.
        kind: &'static str,
        /// The value as text.
        value: String,
    },
    /// Too many SANs.
    #[error("the CSR names {count} subject alternative names; trustd signs at most {MAX_SANS}")]
    TooManySans {
        /// How many.
        count: usize,
    },
    /// basalt-pki refused the request (bad signature, unsupported key, …).
    #[error("{0}")]
    Pki(#[from] PkiError),
}

/// The profile of every certificate trustd signs.
pub fn profile(lifetime: Duration) -> LeafProfile {
    LeafProfile {
        usage: Usage::SERVER,
        lifetime,
        organizations: OrganizationPolicy::Empty,
    }
}

/// Checks `csr` (PEM bytes) and signs it with `ca` for `lifetime`. Returns the certificate PEM.
pub fn sign(
    ca: &CertificateAuthority,
    csr: &[u8],
    lifetime: Duration,
) -> Result<String, SignError> {
    if csr.len() > MAX_CSR_BYTES {
        return Err(SignError::TooLarge { size: csr.len() });
    }
    let text = std::str::from_utf8(csr)
        .map_err(|_| SignError::Malformed("it is not PEM text".to_string()))?;
    check_sans(text)?;
    Ok(sign_csr(ca, text, &profile(lifetime))?)
}

/// Refuses SANs other than (non-wildcard) DNS names and IP addresses.
fn check_sans(csr_pem: &str) -> Result<(), SignError> {
    let block = pem::parse(csr_pem).map_err(|e| SignError::Malformed(e.to_string()))?;
    let (_, csr) = X509CertificationRequest::from_der(block.contents())
        .map_err(|e| SignError::Malformed(format!("cannot decode the request: {e}")))?;
    let mut count = 0usize;
    for ext in csr.requested_extensions().into_iter().flatten() {
        let ParsedExtension::SubjectAlternativeName(san) = ext else {
            continue;
        };
        for name in &san.general_names {
            count += 1;
            let forbidden = |kind, value: String| Err(SignError::ForbiddenSan { kind, value });
            match name {
                GeneralName::DNSName(dns) if dns.contains('*') => {
                    return forbidden("wildcard DNS", (*dns).to_string())
                }
                GeneralName::DNSName(_) | GeneralName::IPAddress(_) => {}
                GeneralName::URI(uri) => return forbidden("URI", (*uri).to_string()),
                GeneralName::RFC822Name(mail) => return forbidden("e-mail", (*mail).to_string()),
                GeneralName::DirectoryName(dn) => {
                    return forbidden("directory name", dn.to_string())
                }
                GeneralName::OtherName(oid, _) => {
                    return forbidden("other name", oid.to_id_string())
                }
                GeneralName::RegisteredID(oid) => {
                    return forbidden("registered ID", oid.to_id_string())
                }
                other => return forbidden("unsupported", format!("{other:?}")),
            }
        }
    }
    if count > MAX_SANS {
        return Err(SignError::TooManySans { count });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use basalt_pki::{
        generate_csr, CaSubject, CertificateInfo, ExtKeyUsage, KeyAlgorithm, PrivateKey,
        CA_LIFETIME,
    };

    fn ca() -> CertificateAuthority {
        CertificateAuthority::generate(
            &CaSubject::organization("basalt"),
            KeyAlgorithm::Ed25519,
            CA_LIFETIME,
        )
        .unwrap()
    }

    fn csr_with(sans: Vec<rcgen::SanType>) -> String {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let key_pair = rcgen::KeyPair::from_pem(&key.to_pkcs8_pem()).unwrap();
        let mut params = rcgen::CertificateParams::default();
        params.subject_alt_names = sans;
        params.serialize_request(&key_pair).unwrap().pem().unwrap()
    }

    #[test]
    fn signs_dns_and_ip_names_as_server_only() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let csr = generate_csr(&key, "worker-1", &["worker-1".into(), "10.5.0.5".into()]).unwrap();
        let crt = sign(&ca(), csr.as_bytes(), Duration::from_secs(3600)).unwrap();
        let info = CertificateInfo::from_pem(&crt).unwrap();
        assert_eq!(info.ext_key_usages, vec![ExtKeyUsage::ServerAuth]);
        assert!(info.organizations.is_empty());
        assert_eq!(info.dns_names, vec!["worker-1".to_string()]);
    }

    #[test]
    fn refuses_other_san_kinds_wildcards_and_garbage() {
        let ca = ca();
        let uri = csr_with(vec![rcgen::SanType::URI(
            "spiffe://x/y".try_into().unwrap(),
        )]);
        let err = sign(&ca, uri.as_bytes(), Duration::from_secs(60)).unwrap_err();
        assert!(err.to_string().contains("URI"), "{err}");
        let mail = csr_with(vec![rcgen::SanType::Rfc822Name(
            "a@b.c".try_into().unwrap(),
        )]);
        let err = sign(&ca, mail.as_bytes(), Duration::from_secs(60)).unwrap_err();
        assert!(err.to_string().contains("e-mail"), "{err}");
        let wild = csr_with(vec![rcgen::SanType::DnsName(
            "*.example".try_into().unwrap(),
        )]);
        let err = sign(&ca, wild.as_bytes(), Duration::from_secs(60)).unwrap_err();
        assert!(err.to_string().contains("wildcard"), "{err}");
        let err = sign(&ca, b"hello", Duration::from_secs(60)).unwrap_err();
        assert!(matches!(err, SignError::Malformed(_)), "{err}");
        let big = vec![b'A'; MAX_CSR_BYTES + 1];
        let err = sign(&ca, &big, Duration::from_secs(60)).unwrap_err();
        assert!(matches!(err, SignError::TooLarge { .. }), "{err}");
    }
}
