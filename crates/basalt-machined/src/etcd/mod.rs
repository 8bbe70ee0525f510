//! etcd on control-plane nodes: certificates, the `etcd` service, and the small state
//! machine that decides how it starts.
//!
//! At boot ([`start_for_boot`]) a control-plane node issues its etcd certificates from
//! `cluster.etcd.ca` into `/system/secrets/etcd` and starts an [`EtcdControl`]. Its
//! controller task decides the member's initial state:
//!
//! 1. `/var/lib/etcd/member` exists → restart the member (`Initial::Existing`);
//! 2. else it waits — logging once "etcd: waiting for bootstrap …" — for either the
//!    `Bootstrap` RPC (→ a new one-member cluster, optionally restored from a snapshot
//!    uploaded with `EtcdRecover`) or an existing cluster found through the control-plane
//!    endpoint's apid (`EtcdMemberList` on HOST:50000, every [`DISCOVERY_PERIOD`]): then it
//!    removes a stale member with its hostname, joins as a learner (with backoff), starts
//!    etcd with `Initial::Existing` and promotes itself once caught up.
//!
//! The etcd RPCs (`api/etcd.rs`) reach the control through
//! [`PowerControl::etcd`](crate::api::PowerControl::etcd).

mod addr;
mod controller;
mod discover;
mod error;
mod restore;
mod service;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use basalt_config::MachineConfig;
use basalt_etcd::client::Client;
use basalt_etcd::pki::{CertPaths, ClientTls, NodeNames};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

pub use basalt_etcd::args::Ports;

pub use addr::{choose as choose_advertise_ip, local_addresses, parse_subnets};
pub use discover::{endpoint_host, ApidDiscovery};
pub use error::EtcdServiceError;
pub use service::ETCD_ID;

use crate::platform::Paths;
use crate::supervisor::Supervisor;

/// etcd's data directory inside the node (on EPHEMERAL).
pub const DATA_DIR: &str = "/var/lib/etcd";
/// Where the etcd certificates are written inside the node (tmpfs).
pub const SECRETS_DIR: &str = "/system/secrets/etcd";
/// Where `EtcdRecover` stores an uploaded snapshot.
pub const RECOVER_DIR: &str = "/var/lib/etcd-recover";
/// The uploaded snapshot's file name in [`RECOVER_DIR`].
pub const RECOVER_FILE: &str = "snapshot.db";
/// The etcd binary inside the node.
pub const ETCD_BIN: &str = "/usr/bin/etcd";
/// The etcdctl binary inside the node (snapshot restore).
pub const ETCDCTL_BIN: &str = "/usr/bin/etcdctl";
/// Lifetime of the node's etcd certificates (reissued at every boot).
pub const CERT_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);
/// How long leaving retries while etcd refuses membership changes (unhealthy cluster).
pub const LEAVE_RETRY_LIMIT: Duration = Duration::from_secs(30);
/// How often a waiting node asks the control-plane endpoint for existing members.
pub const DISCOVERY_PERIOD: Duration = Duration::from_secs(3);

/// Everything the etcd controller needs, all paths as machined sees them.
#[derive(Clone)]
pub struct EtcdSettings {
    /// Member name: the node's hostname.
    pub name: String,
    /// etcd's data directory.
    pub data_dir: PathBuf,
    /// The certificates' directory.
    pub secrets_dir: PathBuf,
    /// Where uploaded snapshots go.
    pub recover_dir: PathBuf,
    /// The etcd binary.
    pub etcd_bin: PathBuf,
    /// The etcdctl binary.
    pub etcdctl_bin: PathBuf,
    /// The address advertised to peers and clients.
    pub advertise_ip: IpAddr,
    /// Client and peer ports.
    pub ports: Ports,
    /// `cluster.etcd.extraArgs`.
    pub extra: Vec<(String, String)>,
    /// `cluster.etcd.ca.crt` (PEM).
    pub ca_crt: String,
    /// `cluster.etcd.ca.key` (PEM).
    pub ca_key: String,
    /// How to find an existing cluster; `None`: only Bootstrap starts etcd.
    pub discovery: Option<ApidDiscovery>,
    /// Time between discovery attempts.
    pub discovery_period: Duration,
}

impl std::fmt::Debug for EtcdSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdSettings")
            .field("name", &self.name)
            .field("data_dir", &self.data_dir)
            .field("advertise_ip", &self.advertise_ip)
            .field("ports", &self.ports)
            .field("discovery", &self.discovery)
            .finish_non_exhaustive()
    }
}

impl EtcdSettings {
    /// The settings of a control-plane node with `config`, node layout `paths` and
    /// `hostname`; `None` on a worker (no `machine.type: controlplane`).
    pub fn from_config(
        config: &MachineConfig,
        paths: &Paths,
        hostname: &str,
    ) -> Result<Option<Self>, EtcdServiceError> {
        let Some(v1) = config.v1alpha1() else {
            return Ok(None);
        };
        if v1.machine.machine_type != "controlplane" && v1.machine.machine_type != "init" {
            return Ok(None);
        }
        let etcd = v1.cluster.etcd.as_ref();
        let ca = etcd.and_then(|e| e.ca.as_ref());
        let ca_crt = pem_text(ca.and_then(|c| c.crt()), "cluster.etcd.ca.crt")?;
        let ca_key = pem_text(ca.and_then(|c| c.key()), "cluster.etcd.ca.key")?;
        let subnets = parse_subnets(
            etcd.and_then(|e| e.advertised_subnets.as_deref())
                .unwrap_or_default(),
        )?;
        let advertise_ip = choose_advertise_ip(&local_addresses(), &subnets).ok_or_else(|| {
            EtcdServiceError::NoAddress {
                node: hostname.to_string(),
                within: if subnets.is_empty() {
                    String::new()
                } else {
                    " within cluster.etcd.advertisedSubnets".to_string()
                },
            }
        })?;
        let extra = etcd
            .and_then(|e| e.extra_args.as_ref())
            .map(|m| m.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let os_ca = v1.machine.ca.as_ref();
        let host = v1
            .cluster
            .control_plane
            .as_ref()
            .and_then(|c| endpoint_host(&c.endpoint));
        let discovery = match (
            host,
            os_ca.and_then(|c| c.crt()),
            os_ca.and_then(|c| c.key()),
        ) {
            (Some(host), Some(crt), Some(key)) => Some(ApidDiscovery::new(
                &host,
                &pem_text(Some(crt), "machine.ca.crt")?,
                &pem_text(Some(key), "machine.ca.key")?,
            )),
            _ => None,
        };
        Ok(Some(EtcdSettings {
            name: hostname.to_string(),
            data_dir: paths.host(DATA_DIR),
            secrets_dir: paths.host(SECRETS_DIR),
            recover_dir: paths.host(RECOVER_DIR),
            etcd_bin: paths.host(ETCD_BIN),
            etcdctl_bin: paths.host(ETCDCTL_BIN),
            advertise_ip,
            ports: Ports::default(),
            extra,
            ca_crt,
            ca_key,
            discovery,
            discovery_period: DISCOVERY_PERIOD,
        }))
    }

    /// The local client endpoint (`https://127.0.0.1:2379`).
    pub fn local_endpoint(&self) -> String {
        basalt_etcd::args::https_url(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), self.ports.client)
    }

    /// This member's peer URL.
    pub fn peer_url(&self) -> String {
        basalt_etcd::args::https_url(self.advertise_ip, self.ports.peer)
    }
}

/// The PEM text of a config field, or an error naming the field.
fn pem_text(
    value: Option<&basalt_config::v1alpha1::Base64Pem>,
    field: &'static str,
) -> Result<String, EtcdServiceError> {
    let value = value.ok_or(EtcdServiceError::Config {
        field,
        reason: "missing on a control-plane node; regenerate the config with `basaltctl gen \
                 config` (it holds the CAs)"
            .to_string(),
    })?;
    let bytes = value.decode().map_err(|e| EtcdServiceError::Config {
        field,
        reason: format!("not base64 PEM: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|_| EtcdServiceError::Config {
        field,
        reason: "the decoded PEM is not UTF-8 text".to_string(),
    })
}

/// What the etcd member is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for `Bootstrap` or an existing cluster.
    Waiting,
    /// Joining an existing cluster (member add in progress).
    Joining,
    /// The etcd service was started.
    Running,
    /// The member left the cluster (`EtcdLeaveCluster`); etcd is stopped, its data wiped.
    Left,
    /// The controller stopped (machine stopping).
    Stopped,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Waiting => "waiting for bootstrap or an existing cluster",
            Phase::Joining => "joining the existing cluster",
            Phase::Running => "running",
            Phase::Left => "stopped after leaving the cluster",
            Phase::Stopped => "stopped",
        })
    }
}

/// A request to the controller task.
pub(crate) enum Command {
    Bootstrap {
        recover: bool,
        skip_hash_check: bool,
        reply: oneshot::Sender<Result<(), EtcdServiceError>>,
    },
}

pub(crate) struct Inner {
    pub settings: EtcdSettings,
    pub certs: CertPaths,
    pub tls: ClientTls,
    pub supervisor: Supervisor,
    pub phase: watch::Sender<Phase>,
    pub commands: mpsc::Sender<Command>,
    pub cancel: CancellationToken,
    /// Serializes leave against itself.
    pub leaving: tokio::sync::Mutex<()>,
}

/// The etcd member of this node: its phase and the operations the RPCs need. Cheap to clone.
#[derive(Clone)]
pub struct EtcdControl {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EtcdControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdControl")
            .field("settings", &self.inner.settings)
            .field("phase", &*self.inner.phase.borrow())
            .finish_non_exhaustive()
    }
}

/// Logs one line of the etcd controller on machined's console.
pub fn console_log(line: &str) {
    crate::pid1::console::log(format_args!("etcd: {line}"));
}

impl EtcdControl {
    /// Issues the node's etcd certificates into `settings.secrets_dir` and starts the
    /// controller task (which loads and starts the `etcd` service when it is time).
    pub fn start(
        settings: EtcdSettings,
        supervisor: Supervisor,
    ) -> Result<EtcdControl, EtcdServiceError> {
        let mut ips = vec![settings.advertise_ip];
        if !ips.contains(&IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)) {
            ips.push(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        }
        let certs = basalt_etcd::pki::issue_node_certs(
            &settings.ca_crt,
            &settings.ca_key,
            &NodeNames {
                hostname: settings.name.clone(),
                ips,
            },
            CERT_LIFETIME,
        )?;
        let paths = certs.write(&settings.secrets_dir)?;
        let (commands, rx) = mpsc::channel(4);
        let inner = Arc::new(Inner {
            tls: certs.client_tls(),
            certs: paths,
            settings,
            supervisor,
            phase: watch::Sender::new(Phase::Waiting),
            commands,
            cancel: CancellationToken::new(),
            leaving: tokio::sync::Mutex::new(()),
        });
        tokio::spawn(controller::run(inner.clone(), rx));
        Ok(EtcdControl { inner })
    }

    /// The member name (hostname).
    pub fn name(&self) -> &str {
        &self.inner.settings.name
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &EtcdSettings {
        &self.inner.settings
    }

    /// The client TLS material (etcd client certificate).
    pub fn client_tls(&self) -> &ClientTls {
        &self.inner.tls
    }

    /// What the member is doing now.
    pub fn phase(&self) -> Phase {
        self.inner.phase.borrow().clone()
    }

    /// Waits until the phase satisfies `pred` (or `timeout` passes); returns the phase.
    pub async fn wait_phase(&self, timeout: Duration, pred: impl Fn(&Phase) -> bool) -> Phase {
        let mut rx = self.inner.phase.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|p| pred(p))).await;
        self.phase()
    }

    /// Stops the controller (machine stopping); the service itself is stopped by the
    /// supervisor like every other.
    pub fn stop(&self) {
        self.inner.cancel.cancel();
    }

    /// Where `EtcdRecover` stores the uploaded snapshot.
    pub fn recover_snapshot_path(&self) -> PathBuf {
        self.inner.settings.recover_dir.join(RECOVER_FILE)
    }

    /// Starts a new cluster (or restores the uploaded snapshot when `recover`); refused
    /// unless the member waits for bootstrap and has no data.
    pub async fn bootstrap(
        &self,
        recover: bool,
        skip_hash_check: bool,
    ) -> Result<(), EtcdServiceError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || EtcdServiceError::Stopped {
            node: self.name().to_string(),
        };
        self.inner
            .commands
            .send(Command::Bootstrap {
                recover,
                skip_hash_check,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// A client of the local member; FAILED_PRECONDITION-style error unless etcd runs.
    pub async fn client(&self) -> Result<Client, EtcdServiceError> {
        let phase = self.phase();
        if phase != Phase::Running {
            return Err(EtcdServiceError::NotRunning {
                node: self.name().to_string(),
                phase: phase.to_string(),
                hint: match phase {
                    Phase::Waiting => {
                        "bootstrap one control-plane node (basaltctl bootstrap -n NODE); the \
                         others join it by themselves"
                    }
                    Phase::Joining => "it is joining the cluster; retry in a few seconds",
                    _ => "reboot or reset the node to start etcd again",
                },
            });
        }
        let endpoint = self.inner.settings.local_endpoint();
        Ok(Client::connect(&[endpoint], &self.inner.tls).await?)
    }

    /// The local client endpoint.
    pub fn local_endpoint(&self) -> String {
        self.inner.settings.local_endpoint()
    }

    /// Leaves the cluster: removes this member (refused when it is the only voter),
    /// stops etcd and wipes its data directory.
    pub async fn leave(&self) -> Result<(), EtcdServiceError> {
        let _guard = self.inner.leaving.lock().await;
        let client = self.client().await?;
        let members = client.member_list().await?;
        let name = self.name();
        let me = members.iter().find(|m| m.name == name).ok_or_else(|| {
            EtcdServiceError::NotRunning {
                node: name.to_string(),
                phase: "not a member of the cluster it talks to".to_string(),
                hint: "nothing to leave",
            }
        })?;
        let voters = members.iter().filter(|m| !m.is_learner).count();
        if !me.is_learner && voters <= 1 {
            return Err(EtcdServiceError::BootstrapRefused {
                node: name.to_string(),
                reason: "it is the only voting member: leaving would destroy the cluster; \
                         take a snapshot and reset the node instead"
                    .to_string(),
            });
        }
        // etcd refuses membership changes for ~5 s after a voter (re)connected: retry.
        let started = std::time::Instant::now();
        let mut wait = Duration::from_millis(250);
        loop {
            match client.member_remove(me.id).await {
                Ok(_) => break,
                Err(e) if e.is_retryable() && started.elapsed() < LEAVE_RETRY_LIMIT => {
                    console_log(&format!(
                        "leaving: etcd refused yet, retrying in {wait:?}: {e}"
                    ));
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
                Err(e) => return Err(e.into()),
            }
        }
        console_log(&format!("left the cluster (member {:x} removed)", me.id));
        self.inner.phase.send_replace(Phase::Left);
        self.inner
            .supervisor
            .stop(ETCD_ID)
            .await
            .map_err(|e| EtcdServiceError::Supervisor(e.to_string()))?;
        wipe_dir(&self.inner.settings.data_dir)
    }
}

/// Removes `dir` and everything in it (a missing directory is fine).
pub(crate) fn wipe_dir(dir: &Path) -> Result<(), EtcdServiceError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(EtcdServiceError::io("removing", dir, e)),
    }
}

/// The machine's etcd control, if this is a control-plane node that started one.
#[derive(Debug, Default)]
pub struct EtcdSlot(Mutex<Option<EtcdControl>>);

impl EtcdSlot {
    /// The current control.
    pub fn get(&self) -> Option<EtcdControl> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the control (the old one's controller is stopped).
    pub fn set(&self, control: Option<EtcdControl>) {
        let old = std::mem::replace(
            &mut *self.0.lock().unwrap_or_else(PoisonError::into_inner),
            control,
        );
        if let Some(old) = old {
            old.stop();
        }
    }
}

/// At boot: on a control-plane node, issues the etcd certificates and starts the controller
/// (stored in `slot`); on a worker, clears `slot`. Errors are logged; the node boots on.
pub fn start_for_boot(
    config: &MachineConfig,
    paths: &Paths,
    hostname: &str,
    supervisor: &Supervisor,
    slot: &EtcdSlot,
) {
    let settings = match EtcdSettings::from_config(config, paths, hostname) {
        Ok(Some(s)) => s,
        Ok(None) => return slot.set(None),
        Err(e) => {
            console_log(&format!("not started: {e}"));
            return slot.set(None);
        }
    };
    if !settings.etcd_bin.is_file() {
        console_log(&format!(
            "not started: {} is missing in the node (the image's etcd-server package)",
            settings.etcd_bin.display()
        ));
        return slot.set(None);
    }
    match EtcdControl::start(settings, supervisor.clone()) {
        Ok(control) => slot.set(Some(control)),
        Err(e) => {
            console_log(&format!("not started: {e}"));
            slot.set(None);
        }
    }
}
