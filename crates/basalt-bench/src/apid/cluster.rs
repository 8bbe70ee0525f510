//! The bench cluster: three nodes in this process, each machined's local API on a unix
//! socket behind its own apid on `127.0.0.1:<port>` over mutual TLS, and the client's
//! connector (TCP_NODELAY, TLS 1.3, handshake timed).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use basalt_apid::certs::{self, ServerNames};
use basalt_apid::proxy::{self, ProxyState};
use basalt_apid::server;
use basalt_apid::tls::resolver::RotatingResolver;
use basalt_apid::tls::server::{server_config, ClientAuth, SharedServerConfig};
use basalt_machined::api::{self, ApiHandle, NodeInfo, PowerControl};
use basalt_machined::events::EventBus;
use basalt_machined::machine::resources::{self, HostnameSpec, HOSTNAME_ID};
use basalt_machined::process::Reaper;
use basalt_machined::sequencer::SequencerError;
use basalt_machined::supervisor::{Supervisor, SupervisorConfig};
use basalt_pki::{
    issue_client_certificate, CaSubject, CertificateAuthority, KeyAlgorithm, CA_LIFETIME,
};
use basalt_resources::{Resource, Store};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint, Uri};

use super::{within, LONG};

/// The OS CA of the bench cluster.
pub(super) struct Pki {
    ca: CertificateAuthority,
}

impl Pki {
    pub(super) fn new() -> Result<Pki, String> {
        let ca = CertificateAuthority::generate(
            &CaSubject::organization("talos"),
            KeyAlgorithm::Ed25519,
            CA_LIFETIME,
        )
        .map_err(|err| format!("generating the OS CA failed: {err}"))?;
        Ok(Pki { ca })
    }

    fn root(&self) -> CertificateDer<'static> {
        CertificateDer::from(self.ca.cert_der().to_vec())
    }

    /// TLS 1.3 client configuration: trusts the CA, presents a certificate with `roles`.
    pub(super) fn client_config(&self, roles: &[&str]) -> Result<rustls::ClientConfig, String> {
        let issued = issue_client_certificate(&self.ca, roles, Duration::from_secs(3600))
            .map_err(|err| format!("issuing the client certificate failed: {err}"))?;
        self.client_config_for(&issued)
    }

    fn client_config_for(
        &self,
        issued: &basalt_pki::IssuedCertificate,
    ) -> Result<rustls::ClientConfig, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.root())
            .map_err(|err| format!("the OS CA is not a usable root: {err}"))?;
        let (cert, key) = certs::to_der(issued, "bench client").map_err(|err| err.to_string())?;
        let mut config = rustls::ClientConfig::builder_with_provider(certs::crypto_provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .and_then(|builder| {
                builder
                    .with_root_certificates(roots)
                    .with_client_auth_cert(vec![cert], key)
            })
            .map_err(|err| format!("building the client TLS configuration failed: {err}"))?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(config)
    }

    /// apid's server TLS: a certificate for 127.0.0.1, client certificates required.
    fn server_tls(&self) -> Result<Arc<SharedServerConfig>, String> {
        let mut names = ServerNames::default();
        names.add("127.0.0.1");
        let issued = certs::issue_server_certificate(&self.ca, &names, Duration::from_secs(3600))
            .map_err(|err| err.to_string())?;
        let (cert, key) = certs::to_der(&issued, "bench server").map_err(|e| e.to_string())?;
        let key = certs::certified_key(cert, &key, "bench server").map_err(|e| e.to_string())?;
        let auth = ClientAuth::Required {
            roots: vec![self.root()],
        };
        let config = server_config(RotatingResolver::new(key), &auth)
            .map_err(|err| format!("building apid's TLS configuration failed: {err}"))?;
        Ok(SharedServerConfig::new(config))
    }
}

/// Reboot and shutdown requests are accepted and ignored: the bench never sends them.
#[derive(Debug)]
struct NoPower;

impl PowerControl for NoPower {
    fn reboot(&self) -> Result<(), SequencerError> {
        Ok(())
    }

    fn shutdown(&self) -> Result<(), SequencerError> {
        Ok(())
    }
}

/// One node: machined's API on a unix socket and an apid in front of it.
pub(super) struct Node {
    /// apid's address.
    pub(super) addr: SocketAddr,
    /// Stops apid and machined's API.
    pub(super) stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Node {
    pub(super) async fn start(pki: &Pki, hostname: &str) -> Result<Node, String> {
        let dir = tempfile::tempdir()
            .map_err(|err| format!("cannot create a temporary folder for the socket: {err}"))?;
        let sock = dir.path().join("machine.sock");
        let store = Store::new();
        resources::register(&store).map_err(|err| err.to_string())?;
        let spec = HostnameSpec {
            hostname: hostname.into(),
            domainname: String::new(),
        };
        let resource = Resource::from_spec(HOSTNAME_ID, &spec).map_err(|e| e.to_string())?;
        store
            .create("machined", resource)
            .map_err(|err| err.to_string())?;
        let bus = EventBus::new(1024);
        let reaper = Reaper::start().map_err(|err| format!("starting the reaper: {err}"))?;
        let supervisor = Supervisor::new(
            store.clone(),
            bus.clone(),
            reaper,
            SupervisorConfig {
                log_dir: None,
                wrapper: PathBuf::from("/nonexistent/basalt"),
            },
        );
        let handle = ApiHandle {
            store,
            bus,
            supervisor,
            power: Arc::new(NoPower),
            node: NodeInfo {
                platform: "container".into(),
                rbac: true,
                image_version: None,
            },
            machined_log: None,
            kmsg_path: PathBuf::from(api::KMSG_PATH),
        };
        let stop = CancellationToken::new();
        tokio::spawn({
            let (sock, stop) = (sock.clone(), stop.clone());
            async move { api::serve(handle, &sock, stop).await }
        });
        within("machined's socket", wait_for_socket(&sock)).await?;

        let listener = server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|err| err.to_string())?;
        let addr = listener.local_addr().map_err(|err| err.to_string())?;
        let impersonator = certs::issue_impersonator_certificate(&pki.ca, LONG * 120)
            .map_err(|err| err.to_string())?;
        let state = ProxyState {
            machined_socket: sock,
            local_names: vec![hostname.to_string(), addr.to_string()],
            node_client: Some(pki.client_config_for(&impersonator)?),
            maintenance: false,
            hostname: hostname.to_string(),
        };
        tokio::spawn(server::serve(
            listener,
            pki.server_tls()?,
            proxy::service(state),
            stop.clone().cancelled_owned(),
        ));
        Ok(Node {
            addr,
            stop,
            _dir: dir,
        })
    }
}

async fn wait_for_socket(sock: &Path) {
    while basalt_api::transport::connect_unix(sock).await.is_err() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How long the connector's TCP + TLS handshake took (set once it has connected).
pub(super) type HandshakeTime = Arc<Mutex<Option<Duration>>>;

/// A channel to `addr` over mutual TLS, and the time its TCP + TLS handshake took.
pub(super) async fn connect(
    addr: SocketAddr,
    config: &Arc<rustls::ClientConfig>,
) -> Result<(Channel, HandshakeTime), String> {
    let handshake = HandshakeTime::default();
    let connector = Connector {
        config: Arc::clone(config),
        addr,
        handshake: Arc::clone(&handshake),
    };
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|err| format!("bad endpoint {addr}: {err}"))?
        .connect_with_connector(connector)
        .await
        .map_err(|err| format!("connecting to apid at {addr} failed: {err:?}"))?;
    Ok((channel, handshake))
}

#[derive(Clone)]
struct Connector {
    config: Arc<rustls::ClientConfig>,
    addr: SocketAddr,
    handshake: HandshakeTime,
}

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let started = Instant::now();
            let tcp = TcpStream::connect(this.addr).await?;
            // Without it, Nagle + delayed ACKs add ~40 ms to small calls.
            tcp.set_nodelay(true)?;
            let name = ServerName::from(this.addr.ip());
            let tls = tokio_rustls::TlsConnector::from(this.config)
                .connect(name, tcp)
                .await?;
            if let Ok(mut slot) = this.handshake.lock() {
                *slot = Some(started.elapsed());
            }
            Ok(TokioIo::new(tls))
        })
    }
}
