//! A real machine (sequencer, store, supervisor; privileged calls recorded, `/` a temporary
//! directory) serving its API on a unix socket, for the ApplyConfiguration tests.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use basalt_api::machine as m;
use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_api::transport::connect_unix;
use basalt_config::MachineConfig;
use basalt_machined::api::{self, ApiHandle};
use basalt_machined::config_source::WaitForApply;
use basalt_machined::machine::{assemble, MachineHandle};
use basalt_machined::platform::{Mode, Paths};
use basalt_machined::sys::RecordingSyscall;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// Generous bound for anything a test waits for.
pub const LONG: Duration = Duration::from_secs(30);

/// A machine on a temporary root with its API served.
pub struct Machine {
    pub root: tempfile::TempDir,
    pub handle: MachineHandle,
    pub shutdown: CancellationToken,
    pub channel: Channel,
}

/// A generated control-plane config (it holds the OS CA key).
pub fn controlplane_config() -> MachineConfig {
    let secrets = basalt_pki::SecretsBundle::generate().unwrap();
    let opts = basalt_config::generate::GenerateOptions::new("demo", "https://10.5.0.2:6443");
    basalt_config::generate::generate(&secrets, &opts)
        .unwrap()
        .controlplane
}

/// `config` with `machine.network.hostname` set.
pub fn with_hostname(config: &MachineConfig, hostname: &str) -> MachineConfig {
    let mut c = config.clone();
    c.v1alpha1_mut()
        .unwrap()
        .machine
        .network
        .get_or_insert_with(Default::default)
        .hostname = Some(hostname.to_string());
    c
}

/// `config` with `machine.env` set (a change that needs a reboot).
pub fn with_env(config: &MachineConfig, key: &str, value: &str) -> MachineConfig {
    let mut c = config.clone();
    c.v1alpha1_mut().unwrap().machine.env =
        Some(serde_json::from_value(serde_json::json!({ key: value })).unwrap());
    c
}

/// The YAML of `config`.
pub fn yaml(config: &MachineConfig) -> Vec<u8> {
    config.to_yaml().unwrap().into_bytes()
}

/// An apply request.
pub fn request(
    config: &[u8],
    mode: m::apply_configuration_request::Mode,
) -> m::ApplyConfigurationRequest {
    m::ApplyConfigurationRequest {
        data: config.to_vec(),
        mode: mode as i32,
        dry_run: false,
        try_mode_timeout: None,
    }
}

impl Machine {
    /// A container-mode machine; with `config`, it is persisted to STATE and the machine
    /// is initialized and booted before this returns; without, nothing runs yet.
    pub async fn start(config: Option<&MachineConfig>) -> Machine {
        let root = tempfile::tempdir().unwrap();
        for dir in ["system/state", "var", "run", "usr/lib/basalt/services"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        if let Some(c) = config {
            std::fs::write(root.path().join("system/state/config.yaml"), yaml(c)).unwrap();
        }
        let handle = assemble(
            Mode::Container,
            Arc::new(RecordingSyscall::new()),
            Paths::under(root.path()),
            None,
            "/usr/bin/basalt".into(),
            Arc::new(WaitForApply),
        )
        .unwrap();
        let sock = root.path().join("sock/machine.sock");
        let shutdown = CancellationToken::new();
        tokio::spawn({
            let (api, sock, shutdown) = (
                ApiHandle::from_machine(&handle, "container"),
                sock.clone(),
                shutdown.clone(),
            );
            async move { api::serve(api, &sock, shutdown).await }
        });
        let channel = connect(&sock).await;
        let machine = Machine {
            root,
            handle,
            shutdown,
            channel,
        };
        if config.is_some() {
            machine.boot().await;
        }
        machine
    }

    /// Runs initialize and boot to the end.
    pub async fn boot(&self) {
        let seq = self.handle.sequencer();
        within(
            "initialize",
            seq.run(basalt_machined::sequencer::SequenceKind::Initialize),
        )
        .await
        .unwrap();
        within(
            "boot",
            seq.run(basalt_machined::sequencer::SequenceKind::Boot),
        )
        .await
        .unwrap();
    }

    /// A machine service client.
    pub fn client(&self) -> MachineServiceClient<Channel> {
        MachineServiceClient::new(self.channel.clone())
    }

    /// `inside` (absolute in the node) on the host.
    pub fn path(&self, inside: &str) -> PathBuf {
        self.root.path().join(inside.trim_start_matches('/'))
    }

    /// The persisted config text.
    pub fn persisted(&self) -> Vec<u8> {
        std::fs::read(self.path("/system/state/config.yaml")).unwrap()
    }

    /// The hostname the live config asks for.
    pub fn live_hostname(&self) -> Option<String> {
        self.handle
            .config()
            .and_then(|c| c.v1alpha1()?.machine.network.as_ref()?.hostname.clone())
    }

    /// The hostname in the published `MachineConfigs` resource.
    pub fn published_hostname(&self) -> Option<String> {
        let r = self
            .handle
            .store()
            .get("config", "MachineConfigs.config.basalt.dev", "v1alpha1")
            .unwrap();
        r.spec["machine"]["network"]["hostname"]
            .as_str()
            .map(str::to_string)
    }

    /// Stops the API and every service.
    pub async fn stop(self) {
        self.handle.supervisor().stop_all().await;
        self.shutdown.cancel();
    }
}

/// Connects to the socket, waiting for the server to bind it.
pub async fn connect(sock: &std::path::Path) -> Channel {
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        match connect_unix(sock).await {
            Ok(channel) => return channel,
            Err(e) if tokio::time::Instant::now() > deadline => panic!("cannot connect: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Waits up to [`LONG`] for `fut`.
pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LONG, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Waits up to [`LONG`] until `cond` holds.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    within(what, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}
