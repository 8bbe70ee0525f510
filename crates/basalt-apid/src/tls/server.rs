//! rustls server configuration: TLS 1.3 only, ALPN `h2`, client certificates
//! verified by webpki (chain to a trusted root, validity window, ClientAuth EKU;
//! see [`super::verifier`] for what the client is told).

use std::sync::{Arc, RwLock};

use rustls::pki_types::CertificateDer;
use rustls::server::{ResolvesServerCert, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig};

use super::verifier::ClearClientVerifier;
use crate::certs::crypto_provider;

/// How clients must authenticate.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// A client certificate is required and must chain to one of these roots
    /// (`machine.ca.crt` + `machine.acceptedCAs`, or the pinned maintenance CA).
    Required {
        /// Trusted root certificates (DER).
        roots: Vec<CertificateDer<'static>>,
    },
    /// No client certificate is asked for (maintenance mode without a pinned CA).
    None,
}

/// Errors building the TLS server configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A trusted root could not be added.
    #[error("cannot trust CA certificate #{index} (machine.ca.crt is #0, then machine.acceptedCAs): {source}; check that it is a valid X.509 CA certificate")]
    Root {
        /// Position in the roots list.
        index: usize,
        /// The cause.
        source: rustls::Error,
    },
    /// The client verifier could not be built (e.g. no roots at all).
    #[error("cannot set up client certificate verification: {0}; the config needs machine.ca.crt")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    /// rustls refused the protocol setup.
    #[error("cannot set up TLS 1.3: {0}")]
    Protocol(#[from] rustls::Error),
}

/// Builds apid's server configuration around a certificate resolver.
pub fn server_config(
    resolver: Arc<dyn ResolvesServerCert>,
    client_auth: &ClientAuth,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = crypto_provider();
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13])?;
    let builder = match client_auth {
        ClientAuth::Required { roots } => {
            let mut store = RootCertStore::empty();
            for (index, root) in roots.iter().enumerate() {
                store
                    .add(root.clone())
                    .map_err(|source| TlsError::Root { index, source })?;
            }
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(store), provider).build()?;
            builder.with_client_cert_verifier(ClearClientVerifier::new(verifier))
        }
        ClientAuth::None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// The server configuration new connections use; replaceable (e.g. when
/// `machine.acceptedCAs` changes) without touching open connections.
#[derive(Debug)]
pub struct SharedServerConfig {
    current: RwLock<Arc<ServerConfig>>,
}

impl SharedServerConfig {
    /// Starts with `config`.
    pub fn new(config: Arc<ServerConfig>) -> Arc<Self> {
        Arc::new(SharedServerConfig {
            current: RwLock::new(config),
        })
    }

    /// The configuration for the next handshake.
    pub fn get(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the configuration for connections accepted from now on.
    pub fn set(&self, config: Arc<ServerConfig>) {
        match self.current.write() {
            Ok(mut guard) => *guard = config,
            Err(poisoned) => *poisoned.into_inner() = config,
        }
    }
}
