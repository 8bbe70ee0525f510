//! Finding an existing etcd cluster: `EtcdMemberList` on the control-plane endpoint's apid
//! (`HOST:50000`), over mutual TLS with a short-lived `os:reader` client certificate this
//! node issues itself from `machine.ca`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_api::machine::{EtcdMember, EtcdMemberListRequest};
use basalt_pki::{CertificateAuthority, PrivateKey};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Endpoint, Uri};

use super::error::EtcdServiceError;
use crate::machine::apid_service::APID_PORT;

/// Lifetime of the self-issued reader certificate (one is issued per attempt).
const READER_CERT_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Bound on connecting, the handshake and the call.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The host of `cluster.controlPlane.endpoint` (`https://HOST:6443` → `HOST`).
pub fn endpoint_host(endpoint: &str) -> Option<String> {
    let rest = endpoint.trim();
    let rest = rest.split_once("://").map_or(rest, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split_once(']').map(|(h, _)| h)?
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// Asks one apid for the etcd members.
#[derive(Clone)]
pub struct ApidDiscovery {
    host: String,
    port: u16,
    os_ca_crt: String,
    os_ca_key: String,
}

impl std::fmt::Debug for ApidDiscovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApidDiscovery")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl ApidDiscovery {
    /// Discovery through `host:50000`, trusting and signing with the OS CA (`machine.ca`).
    pub fn new(host: &str, os_ca_crt: &str, os_ca_key: &str) -> Self {
        ApidDiscovery {
            host: host.to_string(),
            port: APID_PORT,
            os_ca_crt: os_ca_crt.to_string(),
            os_ca_key: os_ca_key.to_string(),
        }
    }

    /// The same, on another port (tests).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// `HOST:PORT`, for messages.
    pub fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn error(&self, reason: impl Into<String>) -> EtcdServiceError {
        EtcdServiceError::Discovery {
            endpoint: self.endpoint(),
            reason: reason.into(),
        }
    }

    fn tls(&self) -> Result<Arc<ClientConfig>, EtcdServiceError> {
        let ca = CertificateAuthority::from_pem(&self.os_ca_crt, &self.os_ca_key)
            .map_err(|e| self.error(format!("machine.ca is unusable: {e}")))?;
        let leaf = basalt_pki::issue_client_certificate(&ca, &["os:reader"], READER_CERT_LIFETIME)
            .map_err(|e| self.error(format!("cannot issue an os:reader certificate: {e}")))?;
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.os_ca_crt.as_bytes()) {
            let cert = cert.map_err(|e| self.error(format!("machine.ca.crt is not PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| self.error(format!("machine.ca.crt is unusable: {e}")))?;
        }
        let chain = CertificateDer::pem_slice_iter(leaf.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(format!("the issued certificate is not PEM: {e}")))?;
        let key = PrivateKey::from_pem(&leaf.key_pem)
            .map_err(|e| self.error(format!("the issued key: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(key.to_pkcs8_pem().as_bytes())
            .map_err(|e| self.error(format!("the issued key as PKCS#8: {e}")))?;
        let mut config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_protocol_versions(&[&rustls::version::TLS13])
                .map_err(|e| self.error(format!("TLS 1.3: {e}")))?
                .with_root_certificates(roots)
                .with_client_auth_cert(chain, key)
                .map_err(|e| self.error(format!("client certificate: {e}")))?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Arc::new(config))
    }

    /// The members the apid's node sees; an empty list when its etcd does not run yet.
    pub async fn members(&self) -> Result<Vec<EtcdMember>, EtcdServiceError> {
        let connector = Dial {
            host: self.host.clone(),
            port: self.port,
            config: self.tls()?,
        };
        let uri = format!("http://{}", self.endpoint());
        let channel = Endpoint::from_shared(uri)
            .map_err(|e| self.error(format!("bad endpoint: {e}")))?
            .connect_timeout(CALL_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .connect_with_connector(connector)
            .await
            .map_err(|e| self.error(format!("cannot connect: {}", chain(&e))))?;
        let reply = MachineServiceClient::new(channel)
            .etcd_member_list(EtcdMemberListRequest { query_local: false })
            .await;
        match reply {
            Ok(reply) => Ok(reply
                .into_inner()
                .messages
                .into_iter()
                .filter(|m| m.metadata.as_ref().is_none_or(|md| md.error.is_empty()))
                .flat_map(|m| m.members)
                .collect()),
            // Its etcd does not run yet (waiting for bootstrap itself): nothing found.
            Err(s) if s.code() == tonic::Code::FailedPrecondition => Ok(Vec::new()),
            Err(s) => Err(self.error(format!("{:?}: {}", s.code(), s.message()))),
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// TCP + TLS to apid for tonic.
#[derive(Clone)]
struct Dial {
    host: String,
    port: u16,
    config: Arc<ClientConfig>,
}

async fn dial(d: Dial) -> io::Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(d.host.clone())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let tcp = tokio::time::timeout(CALL_TIMEOUT, TcpStream::connect((d.host.as_str(), d.port)))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no TCP connection within 5 s"))??;
    tokio::time::timeout(
        CALL_TIMEOUT,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_the_control_plane_endpoint() {
        assert_eq!(
            endpoint_host("https://10.5.0.2:6443").as_deref(),
            Some("10.5.0.2")
        );
        assert_eq!(
            endpoint_host("https://cp.example.org:6443/").as_deref(),
            Some("cp.example.org")
        );
        assert_eq!(
            endpoint_host("https://[fd00::2]:6443").as_deref(),
            Some("fd00::2")
        );
        assert_eq!(endpoint_host("https://").as_deref(), None);
    }
}
