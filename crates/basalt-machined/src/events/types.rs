//! The event payloads published on the [`EventBus`](super::EventBus).

use std::fmt;
use std::time::SystemTime;

use serde::Serialize;

/// Whether a sequence started or stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SequenceAction {
    /// The sequence began.
    Start,
    /// The sequence ended (successfully or not, see the event's `error`).
    Stop,
}

/// Whether a phase started or stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PhaseAction {
    /// The phase began.
    Start,
    /// The phase ended.
    Stop,
}

/// Whether a task started or stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TaskAction {
    /// The task began.
    Start,
    /// The task ended (successfully or not, see the event's `error`).
    Stop,
}

/// A service's state, named as in Talos.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ServiceState {
    /// Loaded, never started.
    Initialized,
    /// Checking the spec before waiting for dependencies.
    Preparing,
    /// Waiting for dependencies (or for a restart backoff to pass).
    Waiting,
    /// Spawning the process.
    Starting,
    /// The process runs.
    Running,
    /// Being stopped (SIGTERM, then SIGKILL after the stop timeout).
    Stopping,
    /// Ended: exited successfully or was stopped on request.
    Finished,
    /// Ended with an error (non-zero exit, signal, or could not start).
    Failed,
    /// Not run because a condition says so (e.g. an empty command line).
    Skipped,
}

impl ServiceState {
    /// The Talos name of the state (`"Running"`, `"Failed"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Initialized => "Initialized",
            ServiceState::Preparing => "Preparing",
            ServiceState::Waiting => "Waiting",
            ServiceState::Starting => "Starting",
            ServiceState::Running => "Running",
            ServiceState::Stopping => "Stopping",
            ServiceState::Finished => "Finished",
            ServiceState::Failed => "Failed",
            ServiceState::Skipped => "Skipped",
        }
    }
}

impl fmt::Display for ServiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The health of a service as its health check last saw it (Talos `ServiceHealth`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HealthStatus {
    /// True while no check has completed yet (or the service has no check and is not running).
    pub unknown: bool,
    /// True when the last check passed.
    pub healthy: bool,
    /// The last check's error, or empty.
    pub last_message: String,
    /// When `healthy`/`unknown` last changed.
    pub last_change: Option<SystemTime>,
}

impl Default for HealthStatus {
    fn default() -> Self {
        HealthStatus {
            unknown: true,
            healthy: false,
            last_message: String::new(),
            last_change: None,
        }
    }
}

/// One event on the machine event stream.
#[derive(Clone, Debug, Serialize)]
pub enum MachineEvent {
    /// A sequence (boot, reboot, shutdown, ...) started or stopped.
    Sequence {
        /// Sequence name, e.g. `"boot"`.
        sequence: String,
        /// Start or stop.
        action: SequenceAction,
        /// Why the sequence failed, when it did.
        error: Option<String>,
    },
    /// A phase of a sequence started or stopped.
    Phase {
        /// Sequence name.
        sequence: String,
        /// Phase name.
        phase: String,
        /// Start or stop.
        action: PhaseAction,
    },
    /// A task of a phase started or stopped.
    Task {
        /// Sequence name.
        sequence: String,
        /// Phase name.
        phase: String,
        /// Task name.
        task: String,
        /// Start or stop.
        action: TaskAction,
        /// Why the task failed, when it did.
        error: Option<String>,
    },
    /// A service changed state or health.
    ServiceState {
        /// Service id.
        service: String,
        /// The state it is in now.
        state: ServiceState,
        /// Human-readable reason.
        message: String,
        /// Health, when the service has a health check.
        health: Option<HealthStatus>,
    },
    /// The machine's stage or readiness changed.
    MachineStatus {
        /// `"booting"`, `"running"`, `"rebooting"`, `"shutting down"` or `"maintenance"`.
        stage: String,
        /// Whether the machine is ready.
        ready: bool,
    },
}
