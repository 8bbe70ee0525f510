//! A real API server for tests: store, event bus, supervisor with real processes, a power
//! recorder, served on a unix socket in a temp dir, and clients connected to it.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use basalt_api::cosi::resource::state_client::StateClient;
use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_api::transport::{connect_unix, TransportError};
use basalt_machined::api::{self, ApiHandle, NodeInfo, PowerControl};
use basalt_machined::events::EventBus;
use basalt_machined::process::Reaper;
use basalt_machined::sequencer::SequencerError;
use basalt_machined::supervisor::{Backoff, ServiceSpec, Supervisor, SupervisorConfig};
use basalt_resources::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// Generous bound for anything a test waits for.
pub const LONG: Duration = Duration::from_secs(30);

/// Counts power requests; refuses them as Locked while `locked` is set.
#[derive(Debug, Default)]
pub struct Recorder {
    pub reboots: AtomicUsize,
    pub shutdowns: AtomicUsize,
    pub locked: AtomicBool,
}

impl Recorder {
    fn check(&self, requested: &'static str) -> Result<(), SequencerError> {
        if self.locked.load(Ordering::SeqCst) {
            return Err(SequencerError::Locked {
                running: "boot",
                requested,
            });
        }
        Ok(())
    }
}

impl PowerControl for Recorder {
    fn reboot(&self) -> Result<(), SequencerError> {
        self.check("reboot")?;
        self.reboots.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn shutdown(&self) -> Result<(), SequencerError> {
        self.check("shutdown")?;
        self.shutdowns.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A running API server with its parts.
pub struct Node {
    pub dir: tempfile::TempDir,
    pub sock: PathBuf,
    pub handle: ApiHandle,
    pub store: Store,
    pub bus: EventBus,
    pub supervisor: Supervisor,
    pub power: Arc<Recorder>,
    pub shutdown: CancellationToken,
    pub server: JoinHandle<Result<(), TransportError>>,
    pub channel: Channel,
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

impl Node {
    /// Starts a server; `customize` may change the handle (kmsg path, machined log) first.
    pub async fn start_with(customize: impl FnOnce(&mut ApiHandle)) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("run").join("machined").join("machine.sock");
        let store = Store::new();
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
        let power = Arc::new(Recorder::default());
        let mut handle = ApiHandle {
            store: store.clone(),
            bus: bus.clone(),
            supervisor: supervisor.clone(),
            power: power.clone(),
            node: NodeInfo {
                platform: "container".into(),
                rbac: false,
                image_version: None,
            },
            machined_log: None,
            kmsg_path: PathBuf::from(api::KMSG_PATH),
        };
        customize(&mut handle);
        let shutdown = CancellationToken::new();
        let server = tokio::spawn({
            let (handle, sock, shutdown) = (handle.clone(), sock.clone(), shutdown.clone());
            async move { api::serve(handle, &sock, shutdown).await }
        });
        let channel = connect(&sock).await;
        Node {
            dir,
            sock,
            handle,
            store,
            bus,
            supervisor,
            power,
            shutdown,
            server,
            channel,
        }
    }

    /// Starts a server with the defaults.
    pub async fn start() -> Node {
        Node::start_with(|_| {}).await
    }

    /// A machine service client.
    pub fn machine(&self) -> MachineServiceClient<Channel> {
        MachineServiceClient::new(self.channel.clone())
    }

    /// A COSI state client.
    pub fn state(&self) -> StateClient<Channel> {
        StateClient::new(self.channel.clone())
    }

    /// Stops services and the server; the server must return cleanly.
    pub async fn stop(self) {
        self.supervisor.stop_all().await;
        self.shutdown.cancel();
        tokio::time::timeout(LONG, self.server)
            .await
            .expect("the server did not stop")
            .unwrap()
            .unwrap();
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
