//! `basaltctl bootstrap` and `basaltctl etcd ...` on the unix socket of a real machined API
//! whose etcd member is a real etcd 3.4 (Debian's `etcd-server`).
#![allow(clippy::unwrap_used)]

mod socket_support;

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use basalt_machined::api::{serve, ApiHandle, NodeInfo, PowerControl};
use basalt_machined::etcd::{EtcdControl, EtcdSettings, Ports};
use basalt_machined::events::EventBus;
use basalt_machined::process::Reaper;
use basalt_machined::sequencer::SequencerError;
use basalt_machined::supervisor::{Supervisor, SupervisorConfig};
use basalt_pki::{CaSubject, CertificateAuthority, KeyAlgorithm, CA_LIFETIME};
use basalt_resources::Store;
use socket_support::{run_command, Run};
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

struct EtcdNode {
    dir: tempfile::TempDir,
    socket: PathBuf,
    supervisor: Supervisor,
    reaper: Reaper,
    shutdown: CancellationToken,
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl EtcdNode {
    async fn start(name: &str, ca: &CertificateAuthority) -> EtcdNode {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let socket = root.join("run/machine.sock");
        let store = Store::new();
        let bus = EventBus::new(1024);
        let reaper = Reaper::start().unwrap();
        let supervisor = Supervisor::new(
            store.clone(),
            bus.clone(),
            reaper.clone(),
            SupervisorConfig {
                log_dir: None,
                wrapper: PathBuf::from("/nonexistent/basalt"),
            },
        );
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
            ca_crt: ca.cert_pem().to_string(),
            ca_key: ca.key_pem().to_string(),
            discovery: None,
            discovery_period: Duration::from_secs(1),
        };
        let etcd = EtcdControl::start(settings, supervisor.clone()).unwrap();
        let handle = ApiHandle {
            store,
            bus,
            supervisor: supervisor.clone(),
            power: Arc::new(ControlPlane(etcd)),
            node: NodeInfo {
                platform: "container".into(),
                rbac: false,
                image_version: None,
            },
            machined_log: None,
            kmsg_path: PathBuf::from("/dev/kmsg"),
        };
        let shutdown = CancellationToken::new();
        let (path, token) = (socket.clone(), shutdown.clone());
        tokio::spawn(async move { serve(handle, &path, token).await.unwrap() });
        let start = Instant::now();
        while !socket.exists() {
            assert!(start.elapsed() < Duration::from_secs(30), "no socket");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        EtcdNode {
            dir,
            socket,
            supervisor,
            reaper,
            shutdown,
        }
    }

    async fn run(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_basaltctl"));
        cmd.env_clear()
            .env("HOME", self.dir.path())
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        run_command(&self.reaper, cmd).await
    }

    /// Retries `etcd members` until etcd answers.
    async fn members(&self) -> String {
        let start = Instant::now();
        loop {
            let run = self.run(&["etcd", "members"]).await;
            if run.status.success() {
                return run.stdout;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "{run:#?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn stop(self) {
        self.supervisor.stop_all().await;
        self.shutdown.cancel();
    }
}

fn require_etcd() {
    for (bin, package) in [
        ("/usr/bin/etcd", "etcd-server"),
        ("/usr/bin/etcdctl", "etcd-client"),
    ] {
        assert!(
            Path::new(bin).is_file(),
            "{bin} is missing: install the Debian package {package}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bootstrap_members_status_snapshot_and_recover() {
    require_etcd();
    let ca = CertificateAuthority::generate(
        &CaSubject::organization("etcd"),
        KeyAlgorithm::EcdsaP256,
        CA_LIFETIME,
    )
    .unwrap();
    let node = EtcdNode::start("cp-1", &ca).await;

    let line = node.run(&["etcd", "status"]).await.fails().to_string();
    assert!(line.contains("basaltctl bootstrap"), "{line}");

    let out = node.run(&["bootstrap"]).await;
    assert!(out.ok().contains("etcd bootstrap started"), "{out:#?}");
    let table = node.members().await;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(
        lines[0].starts_with("NODE") && lines[0].contains("ID") && lines[0].ends_with("LEARNER"),
        "{table}"
    );
    assert!(lines[0].contains("HOSTNAME   PEER URLS"), "{table}");
    assert!(
        lines[1].contains("cp-1") && lines[1].ends_with("false"),
        "{table}"
    );

    let json = node.run(&["etcd", "members", "-o", "json"]).await;
    let value: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(value[0]["hostname"], "cp-1");
    let yaml = node.run(&["etcd", "members", "-o", "yaml"]).await;
    assert!(yaml.ok().contains("hostname: cp-1"), "{yaml:#?}");

    let status = node.run(&["etcd", "status"]).await;
    let text = status.ok();
    assert!(text.starts_with("NODE"), "{text}");
    assert!(text.contains("RAFT APPLIED INDEX"), "{text}");

    let alarms = node.run(&["etcd", "alarm", "list"]).await;
    assert_eq!(alarms.ok(), "NODE   MEMBER   ALARM\n");
    node.run(&["etcd", "alarm", "disarm"]).await.ok();
    assert!(node
        .run(&["etcd", "defrag"])
        .await
        .ok()
        .contains("defragmented"));

    let line = node.run(&["etcd", "leave"]).await.fails().to_string();
    assert!(line.contains("only voting member"), "{line}");
    let line = node
        .run(&["etcd", "remove-member", "not-hex"])
        .await
        .fails()
        .to_string();
    assert!(line.contains("basaltctl etcd members"), "{line}");
    let line = node.run(&["bootstrap"]).await.fails().to_string();
    assert!(line.contains("bootstrap refused"), "{line}");

    let path = node.dir.path().join("backup.db");
    let out = node
        .run(&["etcd", "snapshot", path.to_str().unwrap()])
        .await;
    assert!(out.ok().contains("etcd snapshot saved to"), "{out:#?}");
    assert!(std::fs::metadata(&path).unwrap().len() > 1000);

    // A fresh node recovers from it.
    let other = EtcdNode::start("cp-restored", &ca).await;
    let out = other
        .run(&["bootstrap", "--recover-from", path.to_str().unwrap()])
        .await;
    assert!(out.ok().contains("etcd bootstrap started"), "{out:#?}");
    let table = other.members().await;
    assert!(table.contains("cp-restored"), "{table}");

    other.stop().await;
    node.stop().await;
}
