//! The rustls client configuration: TLS 1.3 only (ring), the context's CA as the only
//! root, the context's client certificate, or `--insecure` (no client certificate, no
//! server verification unless a `--cert-fingerprint` pins the server's certificate).
//!
//! Every verifier records the certificate the server presented, so a failed handshake
//! can be explained with the certificate's names, issuer and validity.

use std::fmt;
use std::sync::{Arc, Mutex};

use basalt_pki::PrivateKey;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use sha2::{Digest as _, Sha256};

/// How the server's certificate is checked.
#[derive(Debug, Clone)]
pub enum ServerTrust {
    /// It must chain to one of these CA certificates (PEM) and name the endpoint.
    Ca(Vec<u8>),
    /// Not checked, except against these SHA-256 fingerprints when any are given.
    Insecure(Vec<[u8; 32]>),
}

/// The client certificate (PEM) and its key (PEM, any label basalt_pki reads).
#[derive(Clone)]
pub struct Identity {
    /// Certificate chain, PEM.
    pub cert_pem: Vec<u8>,
    /// Private key, PEM.
    pub key_pem: Vec<u8>,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("key_pem", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// The certificate the server presented in the last handshake (DER).
pub type SeenCert = Arc<Mutex<Option<CertificateDer<'static>>>>;

/// Builds the client configuration; returns it with the slot where the verifier
/// records the server's certificate.
pub fn client_config(
    trust: &ServerTrust,
    identity: Option<&Identity>,
) -> Result<(Arc<ClientConfig>, SeenCert), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let seen: SeenCert = Arc::default();
    let verifier: Arc<dyn ServerCertVerifier> = match trust {
        ServerTrust::Ca(ca_pem) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(ca_pem, "the CA certificate (`ca`)")? {
                roots
                    .add(cert)
                    .map_err(|e| format!("the CA certificate (`ca`) is unusable: {e}"))?;
            }
            let inner =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| format!("the CA certificate (`ca`) is unusable: {e}"))?;
            Arc::new(Recording {
                inner,
                seen: seen.clone(),
            })
        }
        ServerTrust::Insecure(pins) => Arc::new(Pinned {
            pins: pins.clone(),
            algorithms: provider.signature_verification_algorithms,
            seen: seen.clone(),
        }),
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| format!("cannot set up TLS 1.3: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some(identity) => {
            let chain = certificates(&identity.cert_pem, "the client certificate (`crt`)")?;
            builder
                .with_client_auth_cert(chain, private_key(&identity.key_pem)?)
                .map_err(|e| format!("the client certificate (`crt`) and key (`key`) cannot be used together: {e}"))?
        }
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok((Arc::new(config), seen))
}

/// `sha256:<hex>` (colons allowed, any case) → the 32 bytes.
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32], String> {
    let hex: String = text
        .trim()
        .trim_start_matches("sha256:")
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    let bad = || {
        format!(
            "invalid --cert-fingerprint {text:?}: expected sha256:<64 hex digits>, as printed \
             on the node's console (\"maintenance mode: apid certificate fingerprint sha256:...\")"
        )
    };
    if hex.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// Lowercase hex of the SHA-256 of `der` (the form apid prints).
pub fn fingerprint_hex(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{what} is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{what} holds no CERTIFICATE block"));
    }
    Ok(certs)
}

/// Any key basalt_pki reads (`ED25519 PRIVATE KEY`, `EC PRIVATE KEY`, PKCS#8), as PKCS#8.
fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    let text = std::str::from_utf8(pem)
        .map_err(|_| "the client key (`key`) is not PEM text".to_string())?;
    let key = PrivateKey::from_pem(text).map_err(|e| format!("the client key (`key`): {e}"))?;
    PrivateKeyDer::from_pem_slice(key.to_pkcs8_pem().as_bytes())
        .map_err(|e| format!("the client key (`key`) cannot be converted to PKCS#8: {e}"))
}

fn record(seen: &SeenCert, cert: &CertificateDer<'_>) {
    if let Ok(mut slot) = seen.lock() {
        *slot = Some(cert.clone().into_owned());
    }
}

/// webpki verification against the context's CA, recording the presented certificate.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    seen: SeenCert,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        record(&self.seen, end_entity);
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `--insecure`: accepts any certificate, or only those whose SHA-256 is pinned.
/// The handshake signature is still checked, so a pin proves possession of the key.
#[derive(Debug)]
struct Pinned {
    pins: Vec<[u8; 32]>,
    algorithms: WebPkiSupportedAlgorithms,
    seen: SeenCert,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        record(&self.seen, end_entity);
        let digest: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if self.pins.is_empty() || self.pins.contains(&digest) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fingerprints_parse_in_every_printed_form() {
        let hex = "ab".repeat(32);
        let colons = vec!["AB"; 32].join(":");
        for text in [
            format!("sha256:{hex}"),
            hex.clone(),
            format!("sha256:{colons}"),
        ] {
            assert_eq!(parse_fingerprint(&text).unwrap(), [0xab; 32], "{text}");
        }
        let err = parse_fingerprint("sha256:abc").unwrap_err();
        assert!(err.contains("64 hex digits"), "{err}");
        assert!(parse_fingerprint(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn fingerprint_is_lowercase_hex_of_sha256() {
        assert_eq!(
            fingerprint_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
