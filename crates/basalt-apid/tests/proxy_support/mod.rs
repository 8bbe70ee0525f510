//! Real nodes for proxy tests: each is a machined local API server (real store, event bus
//! and supervisor with real processes) on a temporary unix socket, fronted by its own apid
//! proxy on 127.0.0.1:<port> over real mutual TLS (certificates from one OS CA), served by
//! apid's own TLS accept loop. Clients connect with certificates of chosen roles.
#![allow(clippy::unwrap_used, dead_code)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use basalt_api::cosi::resource::state_client::StateClient;
use basalt_api::machine::machine_service_client::MachineServiceClient;
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
use basalt_machined::supervisor::{Backoff, ServiceSpec, Supervisor, SupervisorConfig};
use basalt_pki::{
    issue_client_certificate, CaSubject, CertificateAuthority, IssuedCertificate, KeyAlgorithm,
    CA_LIFETIME,
};
use basalt_resources::{Resource, Store};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint, Uri};

/// Generous bound for anything a test waits for.
pub const LONG: Duration = Duration::from_secs(30);

/// Power requests are accepted and counted.
#[derive(Debug, Default)]
pub struct Power {
    pub reboots: std::sync::atomic::AtomicUsize,
}

impl PowerControl for Power {
    fn reboot(&self) -> Result<(), SequencerError> {
        self.reboots
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    fn shutdown(&self) -> Result<(), SequencerError> {
        Ok(())
    }
}

/// The OS CA of a test cluster.
pub struct Pki {
    pub ca: CertificateAuthority,
}

impl Pki {
    pub fn new() -> Pki {
        let ca = CertificateAuthority::generate(
            &CaSubject::organization("talos"),
            KeyAlgorithm::Ed25519,
            CA_LIFETIME,
        )
        .unwrap();
        Pki { ca }
    }

    fn root(&self) -> CertificateDer<'static> {
        CertificateDer::from(self.ca.cert_der().to_vec())
    }

    /// A TLS 1.3 client configuration trusting the CA, presenting `issued`, ALPN h2.
    pub fn client_config_for(&self, issued: &IssuedCertificate) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.root()).unwrap();
        let (cert, key) = certs::to_der(issued, "test client").unwrap();
        let mut config = rustls::ClientConfig::builder_with_provider(certs::crypto_provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(vec![cert], key)
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec()];
        config
    }

    /// A client configuration with a certificate carrying `roles` as Organizations.
    pub fn client_config(&self, roles: &[&str]) -> rustls::ClientConfig {
        let issued = issue_client_certificate(&self.ca, roles, Duration::from_secs(3600)).unwrap();
        self.client_config_for(&issued)
    }

    /// The node-to-node configuration (`os:impersonator`).
    pub fn impersonator_config(&self) -> rustls::ClientConfig {
        let issued =
            certs::issue_impersonator_certificate(&self.ca, Duration::from_secs(3600)).unwrap();
        self.client_config_for(&issued)
    }

    /// apid's server TLS: a certificate for 127.0.0.1, client certificates required.
    fn server_tls(&self) -> Arc<SharedServerConfig> {
        let mut names = ServerNames::default();
        names.add("127.0.0.1");
        names.add("localhost");
        let issued =
            certs::issue_server_certificate(&self.ca, &names, Duration::from_secs(3600)).unwrap();
        let (cert, key) = certs::to_der(&issued, "test server").unwrap();
        let resolver = RotatingResolver::new(certs::certified_key(cert, &key, "test").unwrap());
        let auth = ClientAuth::Required {
            roots: vec![self.root()],
        };
        SharedServerConfig::new(server_config(resolver, &auth).unwrap())
    }
}

/// A `sh -c SCRIPT` service with short backoff and stop timeout.
pub fn sh(id: &str, script: &str) -> ServiceSpec {
    let mut spec = ServiceSpec::new(id, vec!["/bin/sh".into(), "-c".into(), script.into()]);
    spec.env = vec![("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into())];
    spec.backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(2),
    };
    spec.stop_timeout = Duration::from_secs(2);
    spec
}

/// One node: machined's API on a socket, and apid's proxy in front of it.
pub struct Node {
    pub hostname: String,
    pub dir: tempfile::TempDir,
    pub sock: PathBuf,
    pub store: Store,
    pub bus: EventBus,
    pub supervisor: Supervisor,
    pub power: Arc<Power>,
    pub addr: SocketAddr,
    machined_stop: CancellationToken,
    apid_stop: CancellationToken,
}

impl Node {
    /// Starts machined's API (hostname `hostname`) and an apid proxy for it.
    pub async fn start(pki: &Pki, hostname: &str) -> Node {
        Node::start_with(pki, hostname, |_| {}).await
    }

    /// Like [`Node::start`]; `customize` may change the proxy state first.
    pub async fn start_with(
        pki: &Pki,
        hostname: &str,
        customize: impl FnOnce(&mut ProxyState),
    ) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("machine.sock");
        let store = Store::new();
        resources::register(&store).unwrap();
        let spec = HostnameSpec {
            hostname: hostname.into(),
            domainname: String::new(),
        };
        store
            .create("machined", Resource::from_spec(HOSTNAME_ID, &spec).unwrap())
            .unwrap();
        let bus = EventBus::new(1024);
        let supervisor = Supervisor::new(
            store.clone(),
            bus.clone(),
            Reaper::start().unwrap(),
            SupervisorConfig {
                log_dir: None,
                wrapper: PathBuf::from("/nonexistent/basalt"),
            },
        );
        let power = Arc::new(Power::default());
        let handle = ApiHandle {
            store: store.clone(),
            bus: bus.clone(),
            supervisor: supervisor.clone(),
            power: power.clone(),
            node: NodeInfo {
                platform: "container".into(),
                rbac: true,
                image_version: None,
            },
            machined_log: None,
            kmsg_path: PathBuf::from(api::KMSG_PATH),
        };
        let machined_stop = CancellationToken::new();
        tokio::spawn({
            let (sock, stop) = (sock.clone(), machined_stop.clone());
            async move { api::serve(handle, &sock, stop).await }
        });
        wait_for_socket(&sock).await;

        let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut state = ProxyState {
            machined_socket: sock.clone(),
            local_names: vec![hostname.to_string(), addr.to_string()],
            node_client: Some(pki.impersonator_config()),
            maintenance: false,
            hostname: hostname.to_string(),
        };
        customize(&mut state);
        let apid_stop = CancellationToken::new();
        tokio::spawn(server::serve(
            listener,
            pki.server_tls(),
            proxy::service(state),
            apid_stop.clone().cancelled_owned(),
        ));
        Node {
            hostname: hostname.to_string(),
            dir,
            sock,
            store,
            bus,
            supervisor,
            power,
            addr,
            machined_stop,
            apid_stop,
        }
    }

    /// This node's address as a target (`127.0.0.1:<port>`).
    pub fn target(&self) -> String {
        self.addr.to_string()
    }

    /// Stops accepting connections and stops machined's API (the node is down).
    pub async fn stop(&self) {
        self.supervisor.stop_all().await;
        self.apid_stop.cancel();
        self.machined_stop.cancel();
    }
}

async fn wait_for_socket(sock: &std::path::Path) {
    within("machined's socket", async {
        while basalt_api::transport::connect_unix(sock).await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// A channel to `addr` over mutual TLS with `config`, server name 127.0.0.1.
pub async fn channel(addr: SocketAddr, config: rustls::ClientConfig) -> Channel {
    let connector = Connector {
        config: Arc::new(config),
        addr,
    };
    within(
        "a TLS connection",
        Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect_with_connector(connector),
    )
    .await
    .unwrap()
}

/// A machine service client with `roles` to `node`.
pub async fn machine(pki: &Pki, node: &Node, roles: &[&str]) -> MachineServiceClient<Channel> {
    MachineServiceClient::new(channel(node.addr, pki.client_config(roles)).await)
}

/// A COSI state client with `roles` to `node`.
pub async fn state(pki: &Pki, node: &Node, roles: &[&str]) -> StateClient<Channel> {
    StateClient::new(channel(node.addr, pki.client_config(roles)).await)
}

/// `message` with metadata `key: value` added.
pub fn with<T>(message: T, pairs: &[(&'static str, &str)]) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    for (key, value) in pairs {
        request.metadata_mut().append(*key, value.parse().unwrap());
    }
    request
}

/// Waits up to [`LONG`] for `fut`.
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(LONG, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

#[derive(Clone)]
struct Connector {
    config: Arc<rustls::ClientConfig>,
    addr: SocketAddr,
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
            let tcp = TcpStream::connect(this.addr).await?;
            // Without it, Nagle + delayed ACKs add ~40 ms to every call.
            tcp.set_nodelay(true)?;
            let name = ServerName::try_from("127.0.0.1").unwrap();
            let tls = tokio_rustls::TlsConnector::from(this.config)
                .connect(name, tcp)
                .await?;
            Ok(TokioIo::new(tls))
        })
    }
}
