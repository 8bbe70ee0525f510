//! The client of trustd (`securityapi.SecurityService/Certificate` on :50001): a node
//! without a certificate sends a CSR with `machine.token` (gRPC metadata `token`, as
//! Talos) and gets back the OS CA and a certificate signed by it. trustd's own server
//! certificate is verified against `machine.ca.crt` (TLS 1.3); no client certificate
//! is presented. `basalt-trustd` re-exports this module as its client.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use basalt_api::securityapi::security_service_client::SecurityServiceClient;
use basalt_api::securityapi::CertificateRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tonic::metadata::MetadataValue;
use tonic::transport::{Endpoint, Uri};

use crate::certs::crypto_provider;

/// trustd's port (Talos's).
pub const TRUSTD_PORT: u16 = 50001;

/// The gRPC metadata key carrying `machine.token`.
pub const TOKEN_METADATA: &str = "token";

/// How long connecting to one trustd (TCP + TLS) and its answer may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Errors asking trustd for a certificate. Messages name the endpoint and what to check.
#[derive(Debug, thiserror::Error)]
pub enum TrustdClientError {
    /// No endpoint to ask.
    #[error("no trustd endpoint to ask; set cluster.controlPlane.endpoint (trustd is HOST:{TRUSTD_PORT})")]
    NoEndpoints,
    /// `machine.ca.crt` cannot be used to verify trustd.
    #[error("cannot verify trustd with machine.ca.crt: {0}; check .machine.ca.crt in the machine config")]
    Ca(String),
    /// The token was not accepted.
    #[error("trustd at {endpoint} refused the token: PermissionDenied: {message}; check machine.token (it must equal the control-plane nodes' machine.token)")]
    TokenRefused {
        /// `host:port`.
        endpoint: String,
        /// trustd's message.
        message: String,
    },
    /// trustd refused the request for another reason.
    #[error("trustd at {endpoint} refused the certificate request: {code:?}: {message}")]
    Refused {
        /// `host:port`.
        endpoint: String,
        /// The gRPC code.
        code: tonic::Code,
        /// trustd's message.
        message: String,
    },
    /// trustd could not be reached (TCP, TLS or HTTP/2).
    #[error("cannot reach trustd at {endpoint}: {reason}; check that a control-plane node runs trustd there and that its certificate comes from machine.ca")]
    Unreachable {
        /// `host:port`.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The endpoint is not `host:port`.
    #[error("trustd endpoint {endpoint:?} is not HOST:PORT")]
    BadEndpoint {
        /// The text.
        endpoint: String,
    },
    /// The reply is not PEM text.
    #[error("trustd at {endpoint} answered with a {field} that is not PEM text")]
    BadReply {
        /// `host:port`.
        endpoint: String,
        /// `ca` or `crt`.
        field: &'static str,
    },
    /// Several endpoints, each failed.
    #[error("every trustd endpoint failed: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    AllFailed(Vec<TrustdClientError>),
}

/// What trustd returned: the CA and the signed certificate, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCertificate {
    /// The OS CA certificate.
    pub ca_pem: String,
    /// The certificate for the CSR's key.
    pub crt_pem: String,
}

/// Asks each of `endpoints` (`host:port`) in turn to sign `csr_pem`, sending `token`;
/// trustd's server certificate must chain to `ca_pem` (`machine.ca.crt`). Returns the
/// first answer, or every endpoint's error.
pub async fn request_certificate(
    endpoints: &[String],
    ca_pem: &str,
    token: &str,
    csr_pem: &str,
) -> Result<SignedCertificate, TrustdClientError> {
    let config = Arc::new(client_config(ca_pem)?);
    let mut errors = Vec::new();
    for endpoint in endpoints {
        match request_one(endpoint, Arc::clone(&config), token, csr_pem).await {
            Ok(signed) => return Ok(signed),
            Err(err) => errors.push(err),
        }
    }
    match errors.len() {
        0 => Err(TrustdClientError::NoEndpoints),
        1 => Err(errors.remove(0)),
        _ => Err(TrustdClientError::AllFailed(errors)),
    }
}

/// TLS 1.3, ALPN h2, server verified against `ca_pem`, no client certificate.
fn client_config(ca_pem: &str) -> Result<ClientConfig, TrustdClientError> {
    let mut store = RootCertStore::empty();
    let mut count = 0;
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| TrustdClientError::Ca(e.to_string()))?;
        store
            .add(cert)
            .map_err(|e| TrustdClientError::Ca(e.to_string()))?;
        count += 1;
    }
    if count == 0 {
        return Err(TrustdClientError::Ca(
            "no CERTIFICATE block found".to_string(),
        ));
    }
    let mut config = ClientConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TrustdClientError::Ca(e.to_string()))?
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Splits `host:port` (`[v6]:port` for IPv6).
pub fn split_endpoint(endpoint: &str) -> Option<(String, u16)> {
    let (host, port) = endpoint.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_string(), port))
}

async fn request_one(
    endpoint: &str,
    config: Arc<ClientConfig>,
    token: &str,
    csr_pem: &str,
) -> Result<SignedCertificate, TrustdClientError> {
    let unreachable = |reason: String| TrustdClientError::Unreachable {
        endpoint: endpoint.to_string(),
        reason,
    };
    let (host, port) = split_endpoint(endpoint).ok_or_else(|| TrustdClientError::BadEndpoint {
        endpoint: endpoint.to_string(),
    })?;
    let server_name =
        ServerName::try_from(host.clone()).map_err(|_| TrustdClientError::BadEndpoint {
            endpoint: endpoint.to_string(),
        })?;
    let connector = Connector {
        config,
        server_name,
        host,
        port,
    };
    let uri = Endpoint::from_shared("http://trustd".to_string())
        .map_err(|e| unreachable(e.to_string()))?
        .connect_timeout(CALL_TIMEOUT)
        .timeout(CALL_TIMEOUT);
    let channel = tokio::time::timeout(CALL_TIMEOUT, uri.connect_with_connector(connector))
        .await
        .map_err(|_| unreachable(format!("no connection within {}s", CALL_TIMEOUT.as_secs())))?
        .map_err(|e| unreachable(error_chain(&e)))?;
    let token = MetadataValue::try_from(token).map_err(|_| TrustdClientError::Refused {
        endpoint: endpoint.to_string(),
        code: tonic::Code::InvalidArgument,
        message: "machine.token contains characters that cannot be sent as gRPC metadata"
            .to_string(),
    })?;
    let mut request = tonic::Request::new(CertificateRequest {
        csr: csr_pem.as_bytes().to_vec(),
    });
    request.metadata_mut().insert(TOKEN_METADATA, token);
    let reply = SecurityServiceClient::new(channel)
        .certificate(request)
        .await
        .map_err(|status| match status.code() {
            tonic::Code::PermissionDenied | tonic::Code::Unauthenticated => {
                TrustdClientError::TokenRefused {
                    endpoint: endpoint.to_string(),
                    message: status.message().to_string(),
                }
            }
            tonic::Code::Unavailable => unreachable(error_chain(&status)),
            code => TrustdClientError::Refused {
                endpoint: endpoint.to_string(),
                code,
                message: status.message().to_string(),
            },
        })?
        .into_inner();
    let text = |bytes: Vec<u8>, field| {
        String::from_utf8(bytes)
            .ok()
            .filter(|t| t.contains("-----BEGIN"))
            .ok_or_else(|| TrustdClientError::BadReply {
                endpoint: endpoint.to_string(),
                field,
            })
    };
    Ok(SignedCertificate {
        ca_pem: text(reply.ca, "ca")?,
        crt_pem: text(reply.crt, "crt")?,
    })
}

/// An error and its sources, joined with ": ".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// TCP + TLS to trustd, for tonic's endpoint.
#[derive(Clone)]
struct Connector {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    host: String,
    port: u16,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let tcp = TcpStream::connect((this.host.as_str(), this.port)).await?;
            tcp.set_nodelay(true)?;
            let tls = TlsConnector::from(this.config)
                .connect(this.server_name, tcp)
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("TLS handshake failed: {e}")))?;
            Ok(TokioIo::new(tls))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn endpoints_split() {
        assert_eq!(
            split_endpoint("10.5.0.2:50001"),
            Some(("10.5.0.2".to_string(), 50001))
        );
        assert_eq!(
            split_endpoint("[fd00::2]:50001"),
            Some(("fd00::2".to_string(), 50001))
        );
        assert_eq!(
            split_endpoint("cp.example:1"),
            Some(("cp.example".to_string(), 1))
        );
        assert_eq!(split_endpoint("nohost"), None);
        assert_eq!(split_endpoint(":5"), None);
    }

    #[test]
    fn a_ca_without_certificates_is_refused() {
        let err = client_config("nothing").unwrap_err().to_string();
        assert!(err.contains("machine.ca.crt"), "{err}");
    }
}
