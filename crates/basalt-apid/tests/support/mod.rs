//! Shared test helpers: CAs and certificates from basalt_pki, apid's real TLS
//! server with a service that echoes the peer identity, and real rustls clients.
#![allow(clippy::unwrap_used, dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use basalt_apid::certs::{self, ServerNames};
use basalt_apid::identity::{PeerIdentity, Role};
use basalt_apid::server;
use basalt_apid::tls::server::SharedServerConfig;
use basalt_pki::{CaSubject, CertificateAuthority, KeyAlgorithm, LeafRequest, Usage, CA_LIFETIME};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Generous limit for anything network-bound in tests.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A client certificate and key, ready for rustls.
pub type Identity = (CertificateDer<'static>, PrivateKeyDer<'static>);

pub fn ca(org: &str) -> CertificateAuthority {
    CertificateAuthority::generate(
        &CaSubject::organization(org),
        KeyAlgorithm::Ed25519,
        CA_LIFETIME,
    )
    .unwrap()
}

pub fn der_of(ca: &CertificateAuthority) -> CertificateDer<'static> {
    CertificateDer::from(ca.cert_der().to_vec())
}

pub fn localhost() -> ServerNames {
    let mut names = ServerNames::default();
    names.add("127.0.0.1");
    names.add("localhost");
    names
}

/// A leaf from `ca` with `orgs`, `usage` and `lifetime`.
pub fn leaf(
    ca: &CertificateAuthority,
    orgs: &[&str],
    usage: Usage,
    lifetime: Duration,
) -> Identity {
    let issued = ca
        .issue(&LeafRequest {
            common_name: "test".to_string(),
            organizations: orgs.iter().map(|o| o.to_string()).collect(),
            dns_names: vec![],
            ip_addresses: vec![],
            usage,
            lifetime,
            algorithm: ca.algorithm(),
        })
        .unwrap();
    certs::to_der(&issued, "test certificate").unwrap()
}

pub fn client(ca: &CertificateAuthority, role: &str) -> Identity {
    leaf(ca, &[role], Usage::CLIENT, Duration::from_secs(3600))
}

/// A client certificate of `ca` whose validity window ended an hour ago.
pub fn expired_client(ca: &CertificateAuthority) -> Identity {
    let ca_key = rcgen::KeyPair::from_pem(&ca.key().to_pkcs8_pem()).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(ca.cert_pem(), ca_key).unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "os:admin");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(2);
    params.not_after = now - time::Duration::hours(1);
    let cert = params.signed_by(&key, &issuer).unwrap();
    (
        CertificateDer::from(cert.der().to_vec()),
        PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
}

/// A service answering every request with `roles|subject|impersonator` of the peer.
#[derive(Clone, Debug)]
pub struct EchoIdentity;

impl<B: Send + 'static> tower::Service<http::Request<B>> for EchoIdentity {
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let text = match request.extensions().get::<PeerIdentity>() {
            Some(id) => format!(
                "{}|{}|{}",
                Role::join(&id.roles),
                id.subject,
                id.impersonator
            ),
            None => "no identity".to_string(),
        };
        Box::pin(async move { Ok(http::Response::new(Full::new(Bytes::from(text)))) })
    }
}

/// Serves [`EchoIdentity`] behind apid's TLS front door on 127.0.0.1; returns its address.
pub async fn start(config: Arc<ServerConfig>) -> SocketAddr {
    let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = SharedServerConfig::new(config);
    tokio::spawn(server::serve(
        listener,
        shared,
        EchoIdentity,
        std::future::pending(),
    ));
    addr
}

/// A rustls client trusting `roots`, presenting `identity` (if any), TLS 1.3 (or only `tls12`).
pub fn client_config(
    roots: &[CertificateDer<'static>],
    identity: Option<Identity>,
    tls12_only: bool,
) -> ClientConfig {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13]
    };
    let builder = ClientConfig::builder_with_provider(certs::crypto_provider())
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(store);
    let mut config = match identity {
        Some((cert, key)) => builder.with_client_auth_cert(vec![cert], key).unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    config
}

/// A client that accepts exactly the server certificate with `fingerprint` (`sha256:<hex>`).
pub fn pinned_client_config(fingerprint: &str, identity: Option<Identity>) -> ClientConfig {
    let verifier = Arc::new(PinnedFingerprint(fingerprint.to_string()));
    let builder = ClientConfig::builder_with_provider(certs::crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match identity {
        Some((cert, key)) => builder.with_client_auth_cert(vec![cert], key).unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    config
}

#[derive(Debug)]
struct PinnedFingerprint(String);

impl ServerCertVerifier for PinnedFingerprint {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if certs::fingerprint(end_entity) == self.0 {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "server certificate fingerprint {} is not the pinned {}",
                certs::fingerprint(end_entity),
                self.0
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("TLS 1.2 is not used".to_string()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &certs::crypto_provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        certs::crypto_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Connects over TLS to `addr` (server name 127.0.0.1).
pub async fn connect(
    addr: SocketAddr,
    config: ClientConfig,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::IpAddress(addr.ip().into());
    let connect = TlsConnector::from(Arc::new(config)).connect(name, tcp);
    tokio::time::timeout(TIMEOUT, connect).await.unwrap()
}

/// How a connection attempt ends: `Ok` when the server talks HTTP/2 to us after
/// the handshake, or the TLS error (a received alert, usually). In TLS 1.3 the
/// server checks the client certificate after the client finished, so its
/// refusal arrives as an alert on the first read.
pub async fn outcome(addr: SocketAddr, config: ClientConfig) -> Result<(), rustls::Error> {
    let mut tls = connect(addr, config).await.map_err(tls_error)?;
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(TIMEOUT, tls.read(&mut buf))
        .await
        .unwrap();
    match read {
        Ok(n) if n > 0 => Ok(()),
        Ok(_) => Err(rustls::Error::General(
            "the server closed the connection".to_string(),
        )),
        Err(err) => Err(tls_error(err)),
    }
}

fn tls_error(err: std::io::Error) -> rustls::Error {
    match err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(tls) => tls.clone(),
        None => rustls::Error::General(err.to_string()),
    }
}

/// An HTTP/2 connection over `tls`.
pub async fn h2(tls: TlsStream<TcpStream>) -> hyper::client::conn::http2::SendRequest<Full<Bytes>> {
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(connection);
    sender
}

/// Asks the echo service who we are.
pub async fn whoami(sender: &mut hyper::client::conn::http2::SendRequest<Full<Bytes>>) -> String {
    let request = http::Request::builder()
        .uri("https://127.0.0.1/machine.MachineService/Version")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let call = async {
        let response = sender.send_request(request).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(body.to_vec()).unwrap()
    };
    tokio::time::timeout(TIMEOUT, call).await.unwrap()
}

/// The serial (hex) of the server certificate a connection got.
pub fn server_serial(tls: &TlsStream<TcpStream>) -> String {
    let der = &tls.get_ref().1.peer_certificates().unwrap()[0];
    basalt_pki::CertificateInfo::from_der(der)
        .unwrap()
        .serial_hex
}
