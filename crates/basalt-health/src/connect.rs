//! A gRPC channel to an apid over mutual TLS 1.3 with a short-lived client certificate issued
//! from the OS CA (`machine.ca`): how a control-plane node's machined runs the checks itself.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use basalt_pki::{CertificateAuthority, PrivateKey};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::HealthError;

/// Lifetime of the certificate issued per health run.
const CERT_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// Bound on TCP connect and TLS handshake.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// A channel to apid at `host:port`, trusting the OS CA and presenting a certificate with
/// `roles` issued from it.
pub async fn connect_with_os_ca(
    host: &str,
    port: u16,
    ca_crt_pem: &str,
    ca_key_pem: &str,
    roles: &[&str],
) -> Result<Channel, HealthError> {
    let endpoint = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let err = |reason: String| HealthError::Connect {
        endpoint: endpoint.clone(),
        reason,
    };
    let ca = CertificateAuthority::from_pem(ca_crt_pem, ca_key_pem)
        .map_err(|e| err(format!("machine.ca is unusable: {e}")))?;
    let leaf = basalt_pki::issue_client_certificate(&ca, roles, CERT_LIFETIME)
        .map_err(|e| err(format!("cannot issue a client certificate: {e}")))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_crt_pem.as_bytes()) {
        let cert = cert.map_err(|e| err(format!("machine.ca.crt is not PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| err(format!("machine.ca.crt is unusable: {e}")))?;
    }
    let chain = CertificateDer::pem_slice_iter(leaf.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(format!("the issued certificate is not PEM: {e}")))?;
    let key =
        PrivateKey::from_pem(&leaf.key_pem).map_err(|e| err(format!("the issued key: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(key.to_pkcs8_pem().as_bytes())
        .map_err(|e| err(format!("the issued key as PKCS#8: {e}")))?;
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| err(format!("TLS 1.3: {e}")))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| err(format!("client certificate: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    let dial = Dial {
        host: host.to_string(),
        port,
        config: Arc::new(config),
    };
    Endpoint::from_shared(format!("http://{endpoint}"))
        .map_err(|e| err(format!("bad endpoint: {e}")))?
        .connect_timeout(DIAL_TIMEOUT)
        .connect_with_connector(dial)
        .await
        .map_err(|e| err(format!("cannot connect: {}", chain_text(&e))))
}

fn chain_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// TCP + TLS for tonic.
#[derive(Clone)]
struct Dial {
    host: String,
    port: u16,
    config: Arc<ClientConfig>,
}

async fn dial(d: Dial) -> io::Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(d.host.clone())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let tcp = tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect((d.host.as_str(), d.port)))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no TCP connection within 5 s"))??;
    tokio::time::timeout(
        DIAL_TIMEOUT,
        TlsConnector::from(d.config).connect(name, tcp),
    )
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake took over 5 s"))?
}

impl tower::Service<Uri> for Dial {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let d = self.clone();
        Box::pin(async move { Ok(TokioIo::new(dial(d).await?)) })
    }
}
