//! What apid needs from the machine config: `machine.ca`, `machine.acceptedCAs`
//! and `machine.certSANs`.

use basalt_config::v1alpha1::{Base64Pem, Config};
use basalt_pki::{certificate_der_from_pem, CertificateAuthority};
use rustls::pki_types::CertificateDer;

/// The machine config's PKI fields, decoded.
#[derive(Debug)]
pub struct NodePki {
    /// `machine.ca` with its key; `None` on a worker (no key).
    pub ca: Option<CertificateAuthority>,
    /// Roots for client certificates: `machine.ca.crt` first, then `machine.acceptedCAs`.
    pub roots: Vec<CertificateDer<'static>>,
    /// `machine.certSANs`.
    pub cert_sans: Vec<String>,
}

/// A PKI field of the machine config that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("machine config field {field} is unusable: {reason}; fix it with `basaltctl apply-config`")]
pub struct NodePkiError {
    /// The field path, e.g. `.machine.ca.crt`.
    pub field: String,
    /// Why.
    pub reason: String,
}

impl NodePki {
    /// Decodes the PKI fields of `config`.
    pub fn from_config(config: &Config) -> Result<Self, NodePkiError> {
        let machine = &config.machine;
        let ca = machine.ca.as_ref();
        let crt = ca.and_then(|c| c.crt()).ok_or_else(|| NodePkiError {
            field: ".machine.ca.crt".to_string(),
            reason: "missing; apid needs the OS CA certificate to verify clients".to_string(),
        })?;
        let crt_pem = pem_text(crt, ".machine.ca.crt")?;
        let mut roots = vec![cert_der(&crt_pem, ".machine.ca.crt")?];
        for (i, accepted) in machine.accepted_cas.iter().flatten().enumerate() {
            let field = format!(".machine.acceptedCAs[{i}].crt");
            roots.push(cert_der(&pem_text(&accepted.crt, &field)?, &field)?);
        }
        let ca = match ca.and_then(|c| c.key()) {
            None => None,
            Some(key) => {
                let key_pem = pem_text(key, ".machine.ca.key")?;
                Some(
                    CertificateAuthority::from_pem(&crt_pem, &key_pem).map_err(|e| {
                        NodePkiError {
                            field: ".machine.ca".to_string(),
                            reason: e.to_string(),
                        }
                    })?,
                )
            }
        };
        Ok(NodePki {
            ca,
            roots,
            cert_sans: machine.cert_sans.clone().unwrap_or_default(),
        })
    }
}

fn pem_text(value: &Base64Pem, field: &str) -> Result<String, NodePkiError> {
    let bytes = value.decode().map_err(|e| NodePkiError {
        field: field.to_string(),
        reason: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|_| NodePkiError {
        field: field.to_string(),
        reason: "decodes to bytes that are not PEM text".to_string(),
    })
}

fn cert_der(pem: &str, field: &str) -> Result<CertificateDer<'static>, NodePkiError> {
    certificate_der_from_pem(pem)
        .map(CertificateDer::from)
        .map_err(|e| NodePkiError {
            field: field.to_string(),
            reason: e.to_string(),
        })
}
