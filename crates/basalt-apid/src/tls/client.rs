//! The client side of node-to-node calls: TLS 1.3, ALPN `h2`, the other node's
//! server certificate verified against `machine.ca`, and apid's own
//! `os:impersonator` client certificate (rotated like the server certificate).

use std::sync::Arc;

use rustls::client::ResolvesClientCert;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

use super::server::TlsError;
use crate::certs::crypto_provider;

/// Builds the node-to-node client configuration.
pub fn node_client_config(
    roots: &[CertificateDer<'static>],
    client_cert: Arc<dyn ResolvesClientCert>,
) -> Result<ClientConfig, TlsError> {
    let mut store = RootCertStore::empty();
    for (index, root) in roots.iter().enumerate() {
        store
            .add(root.clone())
            .map_err(|source| TlsError::Root { index, source })?;
    }
    let mut config = ClientConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(store)
        .with_client_cert_resolver(client_cert);
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}
