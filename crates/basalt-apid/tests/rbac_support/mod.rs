//! One real node for the RBAC matrix: an assembled (not booted) container-mode machine —
//! real store, event bus, supervisor and config applier, privileged calls recorded, `/` a
//! temporary directory — serving machined's local API on a unix socket, with a recording
//! [`PowerControl`] (no real reboot), fronted by apid's proxy on 127.0.0.1:<port> over real
//! mutual TLS. Plus a raw-bytes gRPC caller and a harmless minimal request per RPC.
#![allow(clippy::unwrap_used, dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use basalt_api::common::ContainerDriver;
use basalt_api::cosi::resource as cosi;
use basalt_api::machine as m;
use basalt_apid::certs::{self, ServerNames};
use basalt_apid::proxy::{self, ProxyState, RawCodec};
use basalt_apid::server;
use basalt_apid::tls::resolver::RotatingResolver;
use basalt_apid::tls::server::{server_config, ClientAuth, SharedServerConfig};
use basalt_machined::api::{self, ApiHandle, PowerControl};
use basalt_machined::config_source::WaitForApply;
use basalt_machined::events::MachineEvent;
use basalt_machined::machine::config_apply::ConfigApplier;
use basalt_machined::machine::resources::{self, HostnameSpec, HOSTNAME_ID};
use basalt_machined::machine::{assemble, MachineHandle};
use basalt_machined::platform::{Mode, Paths};
use basalt_machined::sequencer::SequencerError;
use basalt_machined::sys::RecordingSyscall;
use basalt_resources::{Resource, Spec as _};
use bytes::Bytes;
use prost::Message as _;
use rustls::pki_types::CertificateDer;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic::Code;

use crate::proxy_support::{within, Pki};

/// How long a stream may take to deliver its first item or status before the call counts as
/// [`Outcome::Open`] (it passed apid and machined accepted it).
pub const FIRST_ITEM: Duration = Duration::from_secs(5);

/// A service id no node has, for the service-control RPCs.
pub const NO_SUCH_SERVICE: &str = "rbac-matrix-no-such-service";

/// Reboot and shutdown are counted, never run; configs go to a real applier.
pub struct Recorder {
    pub reboots: AtomicUsize,
    pub shutdowns: AtomicUsize,
    applier: ConfigApplier,
}

impl PowerControl for Recorder {
    fn reboot(&self) -> Result<(), SequencerError> {
        self.reboots.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn shutdown(&self) -> Result<(), SequencerError> {
        self.shutdowns.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn config_applier(&self) -> Option<ConfigApplier> {
        Some(self.applier.clone())
    }
}

/// The node under test.
pub struct Node {
    pub root: tempfile::TempDir,
    pub machine: MachineHandle,
    pub power: Arc<Recorder>,
    pub addr: SocketAddr,
    stop: CancellationToken,
}

impl Node {
    /// Assembles the machine, publishes a hostname, a machine config (sensitive) and one
    /// event, serves machined's API on a socket and apid's proxy on 127.0.0.1.
    pub async fn start(pki: &Pki) -> Node {
        let root = tempfile::tempdir().unwrap();
        for dir in ["system/state", "var", "run", "usr/lib/basalt/services"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        let machine = assemble(
            Mode::Container,
            Arc::new(RecordingSyscall::new()),
            Paths::under(root.path()),
            None,
            "/nonexistent/basalt".into(),
            Arc::new(WaitForApply),
        )
        .unwrap();
        publish(&machine);

        let power = Arc::new(Recorder {
            reboots: AtomicUsize::new(0),
            shutdowns: AtomicUsize::new(0),
            applier: machine.applier().clone(),
        });
        let mut handle = ApiHandle::from_machine(&machine, "container");
        handle.power = power.clone();
        handle.node.rbac = true;
        let sock = root.path().join("run/machined/machine.sock");
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

        let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = ProxyState {
            machined_socket: sock,
            local_names: vec!["rbac-node".to_string(), addr.to_string()],
            node_client: Some(pki.impersonator_config()),
            maintenance: false,
            hostname: "rbac-node".to_string(),
        };
        tokio::spawn(server::serve(
            listener,
            server_tls(pki),
            proxy::service(state),
            stop.clone().cancelled_owned(),
        ));
        Node {
            root,
            machine,
            power,
            addr,
            stop,
        }
    }

    /// Stops apid and machined's API.
    pub async fn stop(self) {
        self.machine.supervisor().stop_all().await;
        self.stop.cancel();
    }
}

/// The hostname, a generated control-plane config (the sensitive `MachineConfigs`
/// resource) and one machine event (so `Events` has an item to send).
fn publish(machine: &MachineHandle) {
    let store = machine.store();
    let hostname = HostnameSpec {
        hostname: "rbac-node".into(),
        domainname: String::new(),
    };
    store
        .apply(
            "machined",
            Resource::from_spec(HOSTNAME_ID, &hostname).unwrap(),
        )
        .unwrap();
    let secrets = basalt_pki::SecretsBundle::generate().unwrap();
    let opts = basalt_config::generate::GenerateOptions::new("rbac", "https://10.5.0.2:6443");
    let config = basalt_config::generate::generate(&secrets, &opts)
        .unwrap()
        .controlplane;
    resources::publish_config(store, &config).unwrap();
    machine.bus().publish(MachineEvent::MachineStatus {
        stage: "running".into(),
        ready: true,
    });
}

/// apid's server TLS: a certificate for 127.0.0.1 from the OS CA, client certificates required.
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

/// A minimal valid, harmless request for `method`, protobuf-encoded. Side effects are
/// defused: power calls hit the recorder, service control names no existing service,
/// ApplyConfiguration carries an invalid config (dry run), COSI reads a non-sensitive type.
/// An RPC not listed here gets the empty message (valid for every message type).
pub fn request_for(method: &str) -> Bytes {
    let hostname = || {
        (
            HostnameSpec::NAMESPACE.to_string(),
            HostnameSpec::TYPE.to_string(),
        )
    };
    let name = method.rsplit('/').next().unwrap_or_default();
    let bytes = match name {
        "ApplyConfiguration" => m::ApplyConfigurationRequest {
            data: b"machine: [this is not a machine config\n".to_vec(),
            mode: m::apply_configuration_request::Mode::Auto as i32,
            dry_run: true,
            try_mode_timeout: None,
        }
        .encode_to_vec(),
        "GenerateClientConfiguration" => m::GenerateClientConfigurationRequest {
            roles: vec!["os:reader".into()],
            crt_ttl: None,
        }
        .encode_to_vec(),
        "Dmesg" => m::DmesgRequest {
            follow: false,
            tail: false,
        }
        .encode_to_vec(),
        "Events" => m::EventsRequest {
            tail_events: 1,
            ..Default::default()
        }
        .encode_to_vec(),
        "Logs" => m::LogsRequest {
            namespace: "system".into(),
            id: NO_SUCH_SERVICE.into(),
            driver: ContainerDriver::Containerd as i32,
            follow: false,
            tail_lines: -1,
        }
        .encode_to_vec(),
        "ServiceStart" | "ServiceStop" | "ServiceRestart" => {
            // The three requests share one shape: `string id = 1`.
            m::ServiceStartRequest {
                id: NO_SUCH_SERVICE.into(),
            }
            .encode_to_vec()
        }
        "Get" if method.starts_with("/cosi.") => {
            let (namespace, r#type) = hostname();
            cosi::GetRequest {
                namespace,
                r#type,
                id: HOSTNAME_ID.into(),
                options: None,
            }
            .encode_to_vec()
        }
        "List" if method.starts_with("/cosi.") => {
            let (namespace, r#type) = hostname();
            cosi::ListRequest {
                namespace,
                r#type,
                options: None,
            }
            .encode_to_vec()
        }
        "Watch" if method.starts_with("/cosi.") => {
            let (namespace, r#type) = hostname();
            cosi::WatchRequest {
                namespace,
                r#type,
                id: Some(HOSTNAME_ID.into()),
                options: None,
                api_version: 1,
            }
            .encode_to_vec()
        }
        // Reboot, Shutdown (recorded), Version, Hostname, ServiceList, and any new RPC.
        _ => Vec::new(),
    };
    Bytes::from(bytes)
}

/// What one call came back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The status of the call, or of its first item (`Ok` for an item or a clean end).
    Status(Code),
    /// A stream opened but sent neither an item nor a status within [`FIRST_ITEM`].
    Open,
}

impl Outcome {
    /// Whether the outcome is PERMISSION_DENIED.
    pub fn is_denied(self) -> bool {
        self == Outcome::Status(Code::PermissionDenied)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Status(code) => write!(f, "{code:?}"),
            Outcome::Open => f.write_str("Open"),
        }
    }
}

/// Calls `method` with the raw `request` (unary and server-streaming alike: one message
/// out, replies read as a stream), returns the outcome and the status message, if any.
pub async fn call(channel: &Channel, method: &str, request: Bytes) -> (Outcome, String) {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    within("the channel to be ready", grpc.ready())
        .await
        .unwrap();
    let path = http::uri::PathAndQuery::try_from(method).unwrap();
    let reply = within(
        method,
        grpc.server_streaming(tonic::Request::new(request), path, RawCodec),
    )
    .await;
    let mut stream = match reply {
        Ok(reply) => reply.into_inner(),
        Err(status) => return (Outcome::Status(status.code()), status.message().to_string()),
    };
    match tokio::time::timeout(FIRST_ITEM, stream.message()).await {
        Err(_) => (Outcome::Open, String::new()),
        Ok(Ok(_)) => (Outcome::Status(Code::Ok), String::new()),
        Ok(Err(status)) => (Outcome::Status(status.code()), status.message().to_string()),
    }
}
