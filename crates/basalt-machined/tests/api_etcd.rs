//! The etcd RPCs against a real etcd 3.4 (Debian's `etcd-server`) started by machined's etcd
//! controller: refused before bootstrap and on workers, Bootstrap once, member list, status,
//! alarms, defragment, snapshot, and recovery of that snapshot on a second node.
#![allow(clippy::unwrap_used)]

mod api_support;

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use api_support::{Node, Recorder};
use basalt_api::common::Data;
use basalt_api::machine as m;
use basalt_etcd::args::Ports;
use basalt_etcd::client::Client;
use basalt_machined::api::PowerControl;
use basalt_machined::etcd::{EtcdControl, EtcdSettings, Phase};
use basalt_machined::sequencer::SequencerError;
use basalt_pki::{CaSubject, CertificateAuthority, KeyAlgorithm, CA_LIFETIME};
use tonic::Code;

/// A control-plane node's power control: no reboots, one etcd member.
struct ControlPlane {
    etcd: EtcdControl,
    power: Recorder,
}

impl PowerControl for ControlPlane {
    fn reboot(&self) -> Result<(), SequencerError> {
        self.power.reboot()
    }
    fn shutdown(&self) -> Result<(), SequencerError> {
        self.power.shutdown()
    }
    fn etcd(&self) -> Option<EtcdControl> {
        Some(self.etcd.clone())
    }
}

fn require(binary: &str, package: &str) {
    assert!(
        Path::new(binary).is_file(),
        "{binary} is missing: install the Debian package {package} (cargo xtask test installs it)"
    );
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn etcd_ca() -> CertificateAuthority {
    CertificateAuthority::generate(
        &CaSubject::organization("etcd"),
        KeyAlgorithm::EcdsaP256,
        CA_LIFETIME,
    )
    .unwrap()
}

fn settings(root: &Path, name: &str, ca: &CertificateAuthority) -> EtcdSettings {
    EtcdSettings {
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
        ca_crt: ca.cert_pem().to_string(),
        ca_key: ca.key_pem().to_string(),
        discovery: None,
        discovery_period: Duration::from_secs(1),
    }
}

/// A node serving the API whose power control carries an etcd member named `name`.
async fn control_plane(
    name: &str,
    ca: &CertificateAuthority,
) -> (Node, EtcdControl, tempfile::TempDir) {
    let root = tempfile::tempdir().unwrap();
    let settings = settings(root.path(), name, ca);
    let mut control = None;
    let node = Node::start_with(|handle| {
        let etcd = EtcdControl::start(settings, handle.supervisor.clone()).unwrap();
        control = Some(etcd.clone());
        handle.power = Arc::new(ControlPlane {
            etcd,
            power: Recorder::default(),
        });
    })
    .await;
    (node, control.unwrap(), root)
}

/// Retries `EtcdMemberList` until etcd answers (it starts in the background).
async fn members_when_up(node: &Node) -> Vec<m::EtcdMember> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match node
            .machine()
            .etcd_member_list(m::EtcdMemberListRequest { query_local: false })
            .await
        {
            Ok(reply) => return reply.into_inner().messages.remove(0).members,
            Err(s) if tokio::time::Instant::now() < deadline => {
                let _ = s;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(s) => panic!("etcd did not answer within 60 s: {s:?}"),
        }
    }
}

async fn snapshot_bytes(node: &Node) -> Vec<u8> {
    let mut stream = node
        .machine()
        .etcd_snapshot(m::EtcdSnapshotRequest {})
        .await
        .unwrap()
        .into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.message().await.unwrap() {
        bytes.extend_from_slice(&chunk.bytes);
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bootstrap_operate_snapshot_and_recover() {
    require("/usr/bin/etcd", "etcd-server");
    require("/usr/bin/etcdctl", "etcd-client");
    let ca = etcd_ca();
    let (node, etcd, _root) = control_plane("cp-1", &ca).await;

    // Before bootstrap: refused, saying what to do.
    let err = node.machine().etcd_status(()).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(
        err.message().contains("basaltctl bootstrap"),
        "{}",
        err.message()
    );
    assert_eq!(etcd.phase(), Phase::Waiting);

    let started = std::time::Instant::now();
    node.machine()
        .bootstrap(m::BootstrapRequest::default())
        .await
        .unwrap();
    let members = members_when_up(&node).await;
    let up = started.elapsed();
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!(members[0].hostname, "cp-1");
    assert!(!members[0].is_learner);
    assert_eq!(members[0].client_urls, [etcd.local_endpoint()]);
    eprintln!("bootstrap → member list answered in {up:?}");

    // A second bootstrap is refused.
    let err = node
        .machine()
        .bootstrap(m::BootstrapRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(
        err.message().contains("bootstrap refused"),
        "{}",
        err.message()
    );

    // Write a key with the etcd client certificate.
    let client = Client::connect(&[etcd.local_endpoint()], etcd.client_tls())
        .await
        .unwrap();
    client.put("/basalt/test", "kept").await.unwrap();

    let status = node.machine().etcd_status(()).await.unwrap().into_inner();
    let st = status.messages[0].member_status.clone().unwrap();
    assert_eq!(st.member_id, members[0].id);
    assert_eq!(st.leader, st.member_id);
    assert!(st.db_size > 0);
    assert!(st.protocol_version.starts_with("3.4"), "{st:?}");

    let alarms = node
        .machine()
        .etcd_alarm_list(())
        .await
        .unwrap()
        .into_inner();
    assert!(alarms.messages[0].member_alarms.is_empty());
    node.machine().etcd_alarm_disarm(()).await.unwrap();
    node.machine().etcd_defragment(()).await.unwrap();

    // The only voter can neither hand over leadership nor leave.
    let err = node
        .machine()
        .etcd_forfeit_leadership(m::EtcdForfeitLeadershipRequest {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let err = node
        .machine()
        .etcd_leave_cluster(m::EtcdLeaveClusterRequest {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(
        err.message().contains("only voting member"),
        "{}",
        err.message()
    );
    let err = node
        .machine()
        .etcd_remove_member_by_id(m::EtcdRemoveMemberByIdRequest { member_id: 0x1234 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    let snapshot = snapshot_bytes(&node).await;
    assert!(
        snapshot.len() > 1000,
        "snapshot of {} bytes",
        snapshot.len()
    );

    // A second node recovers the snapshot: the key is back.
    let (other, etcd2, _root2) = control_plane("cp-new", &ca).await;
    let err = other
        .machine()
        .bootstrap(m::BootstrapRequest {
            recover_etcd: true,
            recover_skip_hash_check: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("no snapshot"), "{}", err.message());
    let chunks: Vec<Data> = snapshot
        .chunks(64 * 1024)
        .map(|c| Data {
            metadata: None,
            bytes: c.to_vec(),
        })
        .collect();
    other
        .machine()
        .etcd_recover(tokio_stream::iter(chunks))
        .await
        .unwrap();
    other
        .machine()
        .bootstrap(m::BootstrapRequest {
            recover_etcd: true,
            recover_skip_hash_check: false,
        })
        .await
        .unwrap();
    let members = members_when_up(&other).await;
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!(members[0].hostname, "cp-new");
    let client = Client::connect(&[etcd2.local_endpoint()], etcd2.client_tls())
        .await
        .unwrap();
    assert_eq!(
        client.get("/basalt/test").await.unwrap().as_deref(),
        Some(&b"kept"[..])
    );

    other.stop().await;
    node.stop().await;
}

#[tokio::test]
async fn a_worker_refuses_etcd_calls() {
    let node = Node::start().await;
    let err = node
        .machine()
        .etcd_member_list(m::EtcdMemberListRequest { query_local: false })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("control-plane"), "{}", err.message());
    let err = node
        .machine()
        .bootstrap(m::BootstrapRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_data_restarts_the_member_without_bootstrap() {
    require("/usr/bin/etcd", "etcd-server");
    let ca = etcd_ca();
    let (node, etcd, _root) = control_plane("cp-1", &ca).await;
    node.machine()
        .bootstrap(m::BootstrapRequest::default())
        .await
        .unwrap();
    members_when_up(&node).await;
    let data_dir = etcd.settings().data_dir.clone();
    let mut settings = etcd.settings().clone();
    node.stop().await;
    assert!(data_dir.join("member").is_dir());

    // Same data directory, new controller: it restarts at once, Bootstrap is refused.
    settings.ports = Ports {
        client: free_port(),
        peer: free_port(),
    };
    let mut control = None;
    let again = Node::start_with(|handle| {
        let etcd = EtcdControl::start(settings, handle.supervisor.clone()).unwrap();
        control = Some(etcd.clone());
        handle.power = Arc::new(ControlPlane {
            etcd,
            power: Recorder::default(),
        });
    })
    .await;
    let phase = control
        .unwrap()
        .wait_phase(Duration::from_secs(10), |p| *p == Phase::Running)
        .await;
    assert_eq!(phase, Phase::Running);
    let err = again
        .machine()
        .bootstrap(m::BootstrapRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    again.stop().await;
}
