//! [`ApiHandle`]: everything the API server needs from the running machine, and the
//! [`Caller`] every request is made by.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use basalt_api::common;
use basalt_resources::Store;

use crate::events::EventBus;
use crate::logs::ServiceLog;
use crate::machine::config_apply::ConfigApplier;
use crate::machine::resources::{HostnameSpec, HOSTNAME_ID};
use crate::sequencer::SequencerError;
use crate::supervisor::Supervisor;

/// The kernel log device read by `Dmesg`.
pub const KMSG_PATH: &str = "/dev/kmsg";

/// The service id under which machined's own log is served by `Logs`.
pub const MACHINED_LOG_ID: &str = "machined";

/// Starts the power sequences and applies configs. Implemented by [`MachineHandle`](crate::machine::MachineHandle);
/// tests may implement it with a recorder.
///
/// Both calls return as soon as the sequence is accepted (it runs in the background) or
/// refused (e.g. [`SequencerError::Locked`]).
pub trait PowerControl: Send + Sync + 'static {
    /// Starts the reboot sequence.
    fn reboot(&self) -> Result<(), SequencerError>;
    /// Starts the shutdown sequence.
    fn shutdown(&self) -> Result<(), SequencerError>;
    /// The machine config in use; `None` (the default) without one (then HealthCheck is
    /// FAILED_PRECONDITION).
    fn machine_config(&self) -> Option<basalt_config::MachineConfig> {
        None
    }
    /// Starts the reset sequence with `options`; the default (test recorders) refuses it.
    fn reset(&self, options: crate::sequencer::ResetOptions) -> Result<(), SequencerError> {
        let _ = options;
        Err(SequencerError::NotDefined("reset"))
    }
    /// Applies machine configs (`ApplyConfiguration`); `None` (the default) where the
    /// machine cannot (test recorders), then the RPC is UNIMPLEMENTED.
    fn config_applier(&self) -> Option<ConfigApplier> {
        None
    }
    /// The etcd member of a control-plane node; `None` (the default) elsewhere, then the
    /// etcd RPCs are FAILED_PRECONDITION.
    fn etcd(&self) -> Option<crate::etcd::EtcdControl> {
        None
    }
}

impl PowerControl for crate::machine::MachineHandle {
    fn reboot(&self) -> Result<(), SequencerError> {
        crate::machine::MachineHandle::reboot(self)
    }

    fn shutdown(&self) -> Result<(), SequencerError> {
        crate::machine::MachineHandle::shutdown(self)
    }

    fn reset(&self, options: crate::sequencer::ResetOptions) -> Result<(), SequencerError> {
        crate::machine::MachineHandle::reset_with(self, options)
    }

    fn machine_config(&self) -> Option<basalt_config::MachineConfig> {
        crate::machine::MachineHandle::config(self)
    }

    fn config_applier(&self) -> Option<ConfigApplier> {
        Some(self.applier().clone())
    }

    fn etcd(&self) -> Option<crate::etcd::EtcdControl> {
        crate::machine::MachineHandle::etcd(self)
    }
}

/// Static facts about the node, reported by `Version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// The platform name, e.g. `container` or `metal`.
    pub platform: String,
    /// Whether role-based access control is enforced (false on the local socket, where
    /// every caller is an administrator).
    pub rbac: bool,
    /// The verified image's version (`--image-version` from `/init`); `None` outside a
    /// signed image.
    pub image_version: Option<String>,
}

/// What the API server serves from. Cheap to clone.
#[derive(Clone)]
pub struct ApiHandle {
    /// The resource store (COSI `State`, hostname).
    pub store: Store,
    /// The machine event bus (`Events`).
    pub bus: EventBus,
    /// The service supervisor (`Service*`, `Logs`).
    pub supervisor: Supervisor,
    /// Reboot and shutdown.
    pub power: Arc<dyn PowerControl>,
    /// Platform facts for `Version`.
    pub node: NodeInfo,
    /// machined's own log, served as service [`MACHINED_LOG_ID`]; `None` when machined
    /// keeps none (then `Logs` for it is NOT_FOUND).
    pub machined_log: Option<ServiceLog>,
    /// The kernel log device for `Dmesg` (normally [`KMSG_PATH`]).
    pub kmsg_path: PathBuf,
}

impl fmt::Debug for ApiHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiHandle")
            .field("store", &self.store)
            .field("node", &self.node)
            .field("kmsg_path", &self.kmsg_path)
            .finish_non_exhaustive()
    }
}

impl ApiHandle {
    /// A handle serving the machine behind `machine` on platform `platform` (e.g.
    /// `container`), reading the kernel log from [`KMSG_PATH`], without a machined log.
    pub fn from_machine(machine: &crate::machine::MachineHandle, platform: &str) -> Self {
        ApiHandle {
            store: machine.store().clone(),
            bus: machine.bus().clone(),
            supervisor: machine.supervisor().clone(),
            power: Arc::new(machine.clone()),
            node: NodeInfo {
                platform: platform.to_string(),
                rbac: false,
                image_version: None,
            },
            machined_log: None,
            kmsg_path: PathBuf::from(KMSG_PATH),
        }
    }

    /// The node's hostname: the `Hostnames.net.basalt.dev` resource when machined set it,
    /// else the kernel's hostname, else empty.
    pub fn hostname(&self) -> String {
        if let Ok(r) = self.store.get(
            <HostnameSpec as basalt_resources::Spec>::NAMESPACE,
            <HostnameSpec as basalt_resources::Spec>::TYPE,
            HOSTNAME_ID,
        ) {
            if let Ok(spec) = r.spec_as::<HostnameSpec>() {
                if !spec.hostname.is_empty() {
                    return spec.hostname;
                }
            }
        }
        nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_default()
    }

    /// The reply metadata every response carries: this node's hostname.
    pub fn metadata(&self) -> Option<common::Metadata> {
        Some(common::Metadata {
            hostname: self.hostname(),
            error: String::new(),
            status: None,
        })
    }
}

/// A role of a caller, named as in Talos.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `os:admin`: everything, including sensitive resources.
    Admin,
    /// `os:operator`: operations, no secrets.
    Operator,
    /// `os:reader`: read-only, no secrets.
    Reader,
    /// `os:etcd:backup`: etcd snapshots plus what readers may do.
    EtcdBackup,
    /// `os:impersonator`: another node's apid forwarding a caller's roles.
    Impersonator,
}

impl Role {
    /// Every role with its name.
    pub const ALL: [(Role, &'static str); 5] = [
        (Role::Admin, "os:admin"),
        (Role::Operator, "os:operator"),
        (Role::Reader, "os:reader"),
        (Role::EtcdBackup, "os:etcd:backup"),
        (Role::Impersonator, "os:impersonator"),
    ];

    /// The role named `name` (`os:admin` ...); `None` for unknown names.
    pub fn parse(name: &str) -> Option<Role> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == name.trim())
            .map(|(r, _)| *r)
    }

    /// The role's name, e.g. `os:admin`.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(r, _)| *r == self)
            .map(|(_, n)| *n)
            .unwrap_or("")
    }
}

/// Who makes a request. The server puts one into every request's extensions: on the local
/// socket every caller is [`Caller::local_admin`]; apid will derive roles from client
/// certificates. A request without one is treated as having no roles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    /// The caller's roles.
    pub roles: Vec<Role>,
}

impl Caller {
    /// The caller on the local unix socket (root only, mode 0600): an administrator.
    pub fn local_admin() -> Self {
        Caller {
            roles: vec![Role::Admin],
        }
    }

    /// The caller of `request` (no roles when the server attached none).
    pub fn of<T>(request: &tonic::Request<T>) -> Caller {
        request
            .extensions()
            .get::<Caller>()
            .cloned()
            .unwrap_or_default()
    }

    /// The caller named by the `x-basalt-roles` header value (comma-separated roles;
    /// unknown names are ignored).
    pub fn from_roles_header(value: &str) -> Caller {
        let mut roles: Vec<Role> = value.split(',').filter_map(Role::parse).collect();
        roles.dedup();
        Caller { roles }
    }

    /// Whether the caller is an administrator.
    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }

    /// Whether the caller may read resources of sensitive types.
    pub fn may_read_sensitive(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }
}
