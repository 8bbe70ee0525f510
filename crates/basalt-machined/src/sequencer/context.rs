//! What every task can reach.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use basalt_config::MachineConfig;
use basalt_resources::Store;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config_source::{Inbox, MaintenanceHook};
use crate::events::EventBus;
use crate::platform::{Mode, Paths};
use crate::supervisor::{ServiceSpec, Supervisor};
use crate::sys::Syscall;

/// How the machine ends after a sequence (acted on by the machine main loop).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// Power off (metal) / end PID 1 and with it the namespaces (container).
    PowerOff,
    /// Reboot through the kernel (metal only; container mode reboots in place).
    Reboot,
}

/// Machine-wide state shared by every run of every sequence.
#[derive(Debug)]
pub struct MachineState {
    config: Mutex<Option<MachineConfig>>,
    services: Mutex<Vec<ServiceSpec>>,
    halt: watch::Sender<Option<Halt>>,
    inbox: Inbox,
    maintenance_ca: Mutex<Option<PathBuf>>,
    etcd: crate::etcd::EtcdSlot,
    reset: Mutex<super::ResetOptions>,
    skip_config_argument: std::sync::atomic::AtomicBool,
}

impl MachineState {
    /// Nothing loaded, no halt requested.
    pub fn new() -> Self {
        MachineState {
            config: Mutex::new(None),
            services: Mutex::new(Vec::new()),
            halt: watch::Sender::new(None),
            inbox: Inbox::new(),
            maintenance_ca: Mutex::new(None),
            etcd: crate::etcd::EtcdSlot::default(),
            reset: Mutex::new(super::ResetOptions::default()),
            skip_config_argument: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// How the next (or running) reset behaves.
    pub fn reset_options(&self) -> super::ResetOptions {
        self.reset
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sets the options of the next reset (the API does, before starting the sequence).
    pub fn set_reset_options(&self, options: super::ResetOptions) {
        *self.reset.lock().unwrap_or_else(PoisonError::into_inner) = options;
    }

    /// Whether `basalt.config=` is ignored from now on: a reset wiped STATE, so the node
    /// comes back in maintenance mode instead of loading its old config again.
    pub fn skip_config_argument(&self) -> bool {
        self.skip_config_argument
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Marks `basalt.config=` as used up (see [`skip_config_argument`](Self::skip_config_argument)).
    pub fn set_skip_config_argument(&self) {
        self.skip_config_argument
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The etcd control of a control-plane node (set at boot).
    pub fn etcd(&self) -> &crate::etcd::EtcdSlot {
        &self.etcd
    }

    /// The machine config acquired at initialize, if any.
    pub fn config(&self) -> Option<MachineConfig> {
        self.config
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the current machine config.
    pub fn set_config(&self, config: Option<MachineConfig>) {
        *self.config.lock().unwrap_or_else(PoisonError::into_inner) = config;
    }

    /// Specs of the services loaded at boot.
    pub fn services(&self) -> Vec<ServiceSpec> {
        self.services
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records the services loaded at boot.
    pub fn set_services(&self, specs: Vec<ServiceSpec>) {
        *self.services.lock().unwrap_or_else(PoisonError::into_inner) = specs;
    }

    /// Asks the machine main loop to end the machine.
    pub fn request_halt(&self, halt: Halt) {
        self.halt.send_replace(Some(halt));
    }

    /// Forgets a handled halt request (a failed metal reboot leaves the machine up).
    pub fn request_halt_clear(&self) {
        self.halt.send_replace(None);
    }

    /// Where configs applied in maintenance mode go.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// The `basalt.maintenance-ca=` file (inside the node) given to machined, if any.
    pub fn maintenance_ca(&self) -> Option<PathBuf> {
        self.maintenance_ca
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records the `basalt.maintenance-ca=` file given to machined.
    pub fn set_maintenance_ca(&self, path: Option<PathBuf>) {
        *self
            .maintenance_ca
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = path;
    }

    /// Watches halt requests.
    pub fn halt_requests(&self) -> watch::Receiver<Option<Halt>> {
        self.halt.subscribe()
    }
}

impl Default for MachineState {
    fn default() -> Self {
        Self::new()
    }
}

/// Everything a task needs; cheap to clone. Each run of a sequence gets its own `cancel`.
#[derive(Clone)]
pub struct Context {
    /// Privileged calls.
    pub sys: Arc<dyn Syscall>,
    /// Platform mode.
    pub mode: Mode,
    /// Node layout.
    pub paths: Paths,
    /// Resource store.
    pub store: Store,
    /// Machine event stream.
    pub bus: EventBus,
    /// Service supervisor.
    pub supervisor: Supervisor,
    /// The `basalt.config=` value, a path inside the node.
    pub config_argument: Option<PathBuf>,
    /// The basalt binary (built-in services such as apid run `<exe> apid ...`).
    pub exe: PathBuf,
    /// What to do without a usable config.
    pub maintenance: Arc<dyn MaintenanceHook>,
    /// Shared machine state.
    pub machine: Arc<MachineState>,
    /// How long boot waits for services to become ready before reporting not ready.
    pub ready_timeout: Duration,
    /// Fires when this run is taken over (reboot/shutdown/reset interrupting boot).
    pub cancel: CancellationToken,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("mode", &self.mode)
            .field("paths", &self.paths)
            .field("config_argument", &self.config_argument)
            .finish_non_exhaustive()
    }
}
