//! A self-forming etcd cluster on the real path: node cp-1 bootstraps; cp-2 and cp-3 find it
//! by themselves through cp-1's apid (EtcdMemberList over mutual TLS with an `os:reader`
//! certificate they issue from the OS CA), join as learners (retried while etcd refuses) and
//! are promoted; then cp-3 leaves and membership shrinks. Real etcd 3.4, real apid, real TLS.
#![allow(clippy::unwrap_used)]

mod proxy_support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use basalt_apid::certs::{self, ServerNames};
use basalt_apid::proxy::{self, ProxyState};
use basalt_apid::server;
use basalt_apid::tls::resolver::RotatingResolver;
use basalt_apid::tls::server::{server_config, ClientAuth, SharedServerConfig};
use basalt_machined::api::{self, ApiHandle, NodeInfo, PowerControl};
use basalt_machined::etcd::{ApidDiscovery, EtcdControl, EtcdSettings, Phase, Ports};
use basalt_machined::events::EventBus;
use basalt_machined::machine::resources::{self, HostnameSpec, HOSTNAME_ID};
use basalt_machined::process::Reaper;
use basalt_machined::sequencer::SequencerError;
use basalt_machined::supervisor::{Supervisor, SupervisorConfig};
use basalt_pki::{CaSubject, CertificateAuthority, KeyAlgorithm, CA_LIFETIME};
use basalt_resources::{Resource, Store};
use proxy_support::Pki;
use rustls::pki_types::CertificateDer;
use tokio_util::sync::CancellationToken;

struct ControlPlane(EtcdControl);

impl PowerControl for ControlPlane {
    fn reboot(&self) -> Result<(), SequencerError> {
        Ok(())
    }
    fn shutdown(&self) -> Result<(), SequencerError> {
        Ok(())
    }
    fn etcd(&self) -> Option<EtcdControl> {
        Some(self.0.clone())
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn server_tls(pki: &Pki) -> Arc<SharedServerConfig> {
    let mut names = ServerNames::default();
    names.add("127.0.0.1");
    let issued =
        certs::issue_server_certificate(&pki.ca, &names, Duration::from_secs(3600)).unwrap();
    let (cert, key) = certs::to_der(&issued, "test server").unwrap();
    let resolver = RotatingResolver::new(certs::certified_key(cert, &key, "test").unwrap());
    let auth = ClientAuth::Required {
        roots: vec![CertificateDer::from(pki.ca.cert_der().to_vec())],
    };
    SharedServerConfig::new(server_config(resolver, &auth).unwrap())
}

/// One control-plane node: machined's API with an etcd member, and apid in front of it.
struct CpNode {
    _dir: tempfile::TempDir,
    etcd: EtcdControl,
    supervisor: Supervisor,
    apid: SocketAddr,
    stop: CancellationToken,
}

impl CpNode {
    async fn start(
        pki: &Pki,
        etcd_ca: &CertificateAuthority,
        name: &str,
        join_via: Option<SocketAddr>,
    ) -> CpNode {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let store = Store::new();
        resources::register(&store).unwrap();
        let spec = HostnameSpec {
            hostname: name.into(),
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
        let discovery = join_via.map(|addr| {
            ApidDiscovery::new("127.0.0.1", pki.ca.cert_pem(), pki.ca.key_pem())
                .with_port(addr.port())
        });
        let settings = EtcdSettings {
            name: name.to_string(),
            data_dir: root.join("var/lib/etcd"),
            secrets_dir: root.join("system/secrets/etcd"),
            recover_dir: root.join("var/lib/etcd-recover"),
            etcd_bin: PathBuf::from("/usr/bin/etcd"),
            etcdctl_bin: PathBuf::from("/usr/bin/etcdctl"),
            advertise_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: Ports {
                client: free_port(),
                peer: free_port(),
            },
            extra: Vec::new(),
            ca_crt: etcd_ca.cert_pem().to_string(),
            ca_key: etcd_ca.key_pem().to_string(),
            discovery,
            discovery_period: Duration::from_millis(500),
        };
        let etcd = EtcdControl::start(settings, supervisor.clone()).unwrap();
        let handle = ApiHandle {
            store,
            bus,
            supervisor: supervisor.clone(),
            power: Arc::new(ControlPlane(etcd.clone())),
            node: NodeInfo {
                platform: "container".into(),
                rbac: true,
                image_version: None,
            },
            machined_log: None,
            kmsg_path: PathBuf::from(api::KMSG_PATH),
        };
        let sock = root.join("machine.sock");
        let stop = CancellationToken::new();
        tokio::spawn({
            let (sock, stop) = (sock.clone(), stop.clone());
            async move { api::serve(handle, &sock, stop).await }
        });
        while basalt_api::transport::connect_unix(&sock).await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let apid = listener.local_addr().unwrap();
        let state = ProxyState {
            machined_socket: sock,
            local_names: vec![name.to_string(), apid.to_string()],
            node_client: Some(pki.impersonator_config()),
            maintenance: false,
            hostname: name.to_string(),
        };
        tokio::spawn(server::serve(
            listener,
            server_tls(pki),
            proxy::service(state),
            stop.clone().cancelled_owned(),
        ));
        CpNode {
            _dir: dir,
            etcd,
            supervisor,
            apid,
            stop,
        }
    }

    async fn stop(self) {
        self.etcd.stop();
        self.supervisor.stop_all().await;
        self.stop.cancel();
    }
}

/// Waits until cp-1's member list satisfies `done`; returns it.
async fn wait_members(
    node: &CpNode,
    what: &str,
    done: impl Fn(&[(String, bool)]) -> bool,
) -> Vec<(String, bool)> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let list = match node.etcd.client().await {
            Ok(c) => c
                .member_list()
                .await
                .map(|l| l.into_iter().map(|m| (m.name, m.is_learner)).collect())
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        if done(&list) {
            return list;
        }
        assert!(Instant::now() < deadline, "{what}: members are {list:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn control_planes_join_the_bootstrapped_node_by_themselves() {
    assert!(
        Path::new("/usr/bin/etcd").is_file(),
        "/usr/bin/etcd is missing: install the Debian package etcd-server"
    );
    let pki = Pki::new();
    let etcd_ca = CertificateAuthority::generate(
        &CaSubject::organization("etcd"),
        KeyAlgorithm::EcdsaP256,
        CA_LIFETIME,
    )
    .unwrap();
    let cp1 = CpNode::start(&pki, &etcd_ca, "cp-1", None).await;
    let started = Instant::now();
    // The others start first and wait: cp-1 answers FAILED_PRECONDITION until bootstrapped.
    let cp2 = CpNode::start(&pki, &etcd_ca, "cp-2", Some(cp1.apid)).await;
    let cp3 = CpNode::start(&pki, &etcd_ca, "cp-3", Some(cp1.apid)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(cp2.etcd.phase(), Phase::Waiting);

    cp1.etcd.bootstrap(false, false).await.unwrap();
    let voters = |l: &[(String, bool)]| {
        l.len() == 3 && l.iter().all(|(n, learner)| !learner && !n.is_empty())
    };
    let members = wait_members(&cp1, "three voting members", voters).await;
    let formed = started.elapsed();
    let mut names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(names, ["cp-1", "cp-2", "cp-3"]);
    eprintln!("bootstrap → 3 voting members in {formed:?}");
    assert_eq!(cp2.etcd.phase(), Phase::Running);
    assert_eq!(cp3.etcd.phase(), Phase::Running);

    // cp-3 leaves: membership shrinks to two, its data is gone.
    cp3.etcd.leave().await.unwrap();
    let members = wait_members(&cp1, "two members after leave", |l| l.len() == 2).await;
    assert!(members.iter().all(|(n, _)| n != "cp-3"), "{members:?}");
    assert!(!cp3.etcd.settings().data_dir.exists());
    assert_eq!(cp3.etcd.phase(), Phase::Left);

    cp3.stop().await;
    cp2.stop().await;
    cp1.stop().await;
}
