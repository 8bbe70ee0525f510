//! rustls client configuration for etcd: TLS 1.3 only (Go's etcd negotiates it by default),
//! the etcd CA as the only root, the node's client certificate.

use std::sync::Arc;

use basalt_pki::PrivateKey;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::error::EtcdError;
use crate::pki::ClientTls;

/// Builds the client configuration from PEM material.
pub(crate) fn client_config(tls: &ClientTls) -> Result<Arc<ClientConfig>, EtcdError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in certificates(&tls.ca_pem, "the etcd CA certificate")? {
        roots
            .add(cert)
            .map_err(|e| EtcdError::Tls(format!("the etcd CA certificate is unusable: {e}")))?;
    }
    let chain = certificates(&tls.cert_pem, "the etcd client certificate")?;
    let key = PrivateKey::from_pem(&tls.key_pem)
        .map_err(|e| EtcdError::Tls(format!("the etcd client key: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(key.to_pkcs8_pem().as_bytes()).map_err(|e| {
        EtcdError::Tls(format!(
            "the etcd client key cannot be converted to PKCS#8: {e}"
        ))
    })?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| EtcdError::Tls(format!("cannot set up TLS 1.3: {e}")))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| {
            EtcdError::Tls(format!(
                "the etcd client certificate and key do not belong together: {e}"
            ))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

fn certificates(pem: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, EtcdError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| EtcdError::Tls(format!("{what} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(EtcdError::Tls(format!("{what} holds no CERTIFICATE block")));
    }
    Ok(certs)
}
