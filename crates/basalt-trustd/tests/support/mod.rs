//! Shared test helpers: an OS CA, an in-process trustd on a loopback address (real TLS
//! 1.3 through apid's accept loop), a real machined API socket holding a machine config,
//! and the console lines of this test process.
#![allow(clippy::unwrap_used, dead_code)]

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use basalt_apid::certs::ServerNames;
use basalt_apid::config_source::{
    MACHINE_CONFIG_ID, MACHINE_CONFIG_NAMESPACE, MACHINE_CONFIG_TYPE,
};
use basalt_config::v1alpha1::{Base64Pem, CertAndKey, Config, ControlPlane};
use basalt_machined::api::{self, ApiHandle, NodeInfo, PowerControl};
use basalt_machined::events::EventBus;
use basalt_machined::machine::resources::{self, HostnameSpec, HOSTNAME_ID};
use basalt_machined::process::Reaper;
use basalt_machined::sequencer::SequencerError;
use basalt_machined::supervisor::{Supervisor, SupervisorConfig};
use basalt_pki::{CaSubject, CertificateAuthority, KeyAlgorithm, CA_LIFETIME};
use basalt_resources::{Resource, Store};
use basalt_trustd::service::Trustd;
use tokio_util::sync::CancellationToken;

/// Generous bound for anything a test waits for.
pub const LONG: Duration = Duration::from_secs(30);

/// The cluster token of the tests.
pub const TOKEN: &str = "p7c2ab.9k1mz3qz8w5x0d4e";

pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(LONG, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {LONG:?} waiting for {what}"),
    }
}

/// Every console line of this process (apid's and trustd's), collected.
pub fn logs() -> Arc<Mutex<Vec<String>>> {
    static LINES: std::sync::OnceLock<Arc<Mutex<Vec<String>>>> = std::sync::OnceLock::new();
    LINES
        .get_or_init(|| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&lines);
            basalt_apid::console::set_sink(Box::new(move |line| {
                sink.lock().unwrap().push(line.to_string());
            }));
            lines
        })
        .clone()
}

/// Waits until a console line satisfies `pred`; returns it.
pub async fn wait_for_log(what: &str, pred: impl Fn(&str) -> bool) -> String {
    let lines = logs();
    within(what, async {
        loop {
            if let Some(line) = lines.lock().unwrap().iter().find(|l| pred(l)) {
                return line.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
}

pub fn os_ca() -> Arc<CertificateAuthority> {
    Arc::new(
        CertificateAuthority::generate(
            &CaSubject::organization("basalt"),
            KeyAlgorithm::Ed25519,
            CA_LIFETIME,
        )
        .unwrap(),
    )
}

/// A loopback address of its own (127.x.y.z) so a test can use trustd's fixed port 50001.
pub fn own_loopback() -> IpAddr {
    let n = std::process::id()
        ^ (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos());
    let b = n.to_be_bytes();
    IpAddr::from([127, b[1].max(1), b[2], b[3].clamp(2, 254)])
}

/// An in-process trustd.
pub struct TrustdServer {
    pub addr: SocketAddr,
    pub trustd: Trustd,
    stop: CancellationToken,
}

impl TrustdServer {
    /// Starts trustd on `addr` (port 0: any) signing with `ca` for `token` (2 h certificates).
    pub async fn start(ca: &Arc<CertificateAuthority>, token: &str, addr: SocketAddr) -> Self {
        Self::start_with(ca, token, addr, Duration::from_secs(7200)).await
    }

    /// Like [`TrustdServer::start`], signing certificates valid for `lifetime`.
    pub async fn start_with(
        ca: &Arc<CertificateAuthority>,
        token: &str,
        addr: SocketAddr,
        lifetime: Duration,
    ) -> Self {
        let mut names = ServerNames::default();
        names.add(&addr.ip().to_string());
        names.add("trustd.example.test");
        let tls = basalt_trustd::entry::tls(ca, &names, Duration::from_secs(3600)).unwrap();
        let trustd = Trustd::new(Arc::clone(ca), token, lifetime);
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        tokio::spawn(basalt_trustd::entry::serve(
            listener,
            tls,
            trustd.clone(),
            stop.clone().cancelled_owned(),
        ));
        TrustdServer { addr, trustd, stop }
    }

    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for TrustdServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[derive(Debug, Default)]
struct Power;

impl PowerControl for Power {
    fn reboot(&self) -> Result<(), SequencerError> {
        Ok(())
    }

    fn shutdown(&self) -> Result<(), SequencerError> {
        Ok(())
    }
}

/// A worker's machine config: `machine.ca.crt` only, the token, the control-plane endpoint.
pub fn worker_config(ca: &CertificateAuthority, token: &str, endpoint_host: IpAddr) -> Config {
    let mut config = Config {
        version: "v1alpha1".to_string(),
        ..Config::default()
    };
    config.machine.machine_type = "worker".to_string();
    config.machine.token = token.to_string();
    config.machine.ca = Some(CertAndKey {
        crt: Some(Base64Pem::from_pem(ca.cert_pem())),
        key: None,
    });
    config.machine.cert_sans = Some(vec!["worker.example.test".to_string()]);
    config.cluster.control_plane = Some(ControlPlane {
        endpoint: format!("https://{endpoint_host}:6443"),
        local_api_server_port: None,
    });
    config
}

/// machined's real local API on a temporary socket, holding `config`.
pub struct Machined {
    pub dir: tempfile::TempDir,
    pub sock: PathBuf,
    pub store: Store,
    stop: CancellationToken,
}

impl Machined {
    pub async fn start(hostname: &str, config: &Config) -> Machined {
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
        let resource = Resource::new(
            MACHINE_CONFIG_NAMESPACE,
            MACHINE_CONFIG_TYPE,
            MACHINE_CONFIG_ID,
            serde_json::to_value(config).unwrap(),
        );
        store.apply("machined", resource).unwrap();
        let bus = EventBus::new(64);
        let supervisor = Supervisor::new(
            store.clone(),
            bus.clone(),
            Reaper::start().unwrap(),
            SupervisorConfig {
                log_dir: None,
                wrapper: PathBuf::from("/nonexistent/basalt"),
            },
        );
        let handle = ApiHandle {
            store: store.clone(),
            bus,
            supervisor,
            power: Arc::new(Power),
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
        within("machined's socket", async {
            while basalt_api::transport::connect_unix(&sock).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        Machined {
            dir,
            sock,
            store,
            stop,
        }
    }
}

impl Drop for Machined {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
