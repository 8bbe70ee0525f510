//! webpki's client verifier, with one change to what the client is told: a
//! certificate signed by a *different* CA with the same name as a trusted one
//! (every Talos/Basalt cluster's OS CA is `O=talos`/`O=basalt`) fails webpki's
//! signature check, which rustls reports as a puzzling `DecryptError` alert.
//! For the client that is an unknown authority, so it gets `UnknownCA`.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};

/// Wraps a client verifier (see the module docs).
#[derive(Debug)]
pub struct ClearClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClearClientVerifier {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ClientCertVerifier>) -> Arc<Self> {
        Arc::new(ClearClientVerifier { inner })
    }
}

impl ClientCertVerifier for ClearClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        #[allow(deprecated)]
        let signed_by_another_ca =
            |e: &Error| matches!(e, Error::InvalidCertificate(CertificateError::BadSignature));
        self.inner
            .verify_client_cert(end_entity, intermediates, now)
            .map_err(|e| {
                if signed_by_another_ca(&e) {
                    Error::InvalidCertificate(CertificateError::UnknownIssuer)
                } else {
                    e
                }
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
