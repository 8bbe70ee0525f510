//! A service's observable status: state, health and bounded event history. Every change is
//! recorded, published on the event bus and applied to the service resource, in that order,
//! under one lock (so the resource versions follow the transitions).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use basalt_resources::Store;
use serde::Serialize;

use super::resource::{service_resource, ServiceResourceSpec, SUPERVISOR_OWNER};
use crate::events::{EventBus, HealthStatus, MachineEvent, ServiceState};
use crate::logs::ServiceLog;

/// How many records each service's history keeps.
pub const HISTORY_LEN: usize = 64;

/// One recorded transition (or note) of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceEventRecord {
    /// The state after the event.
    pub state: ServiceState,
    /// What happened.
    pub message: String,
    /// When.
    pub ts: SystemTime,
}

#[derive(Debug)]
pub(super) struct Status {
    pub(super) state: ServiceState,
    pub(super) health: HealthStatus,
    pub(super) events: VecDeque<ServiceEventRecord>,
}

/// Shared status of one service plus what is needed to publish its changes. Cheap to clone.
#[derive(Clone, Debug)]
pub(super) struct Reporter {
    id: String,
    has_check: bool,
    status: Arc<Mutex<Status>>,
    store: Store,
    bus: EventBus,
    log: ServiceLog,
}

impl Reporter {
    pub(super) fn new(
        id: &str,
        has_check: bool,
        store: Store,
        bus: EventBus,
        log: ServiceLog,
    ) -> Self {
        Reporter {
            id: id.to_string(),
            has_check,
            status: Arc::new(Mutex::new(Status {
                state: ServiceState::Initialized,
                health: HealthStatus::default(),
                events: VecDeque::new(),
            })),
            store,
            bus,
            log,
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current state.
    pub(super) fn state(&self) -> ServiceState {
        self.lock().state
    }

    /// Moves to `state`. Leaving Running resets the health to unknown.
    pub(super) fn transition(&self, state: ServiceState, message: impl Into<String>) {
        let mut status = self.lock();
        if status.state == ServiceState::Running && state != ServiceState::Running {
            status.health = HealthStatus::default();
        }
        status.state = state;
        self.publish(&mut status, message.into());
    }

    /// Records a note without changing state (it is not a transition: no bus event).
    pub(super) fn note(&self, message: impl Into<String>) {
        let mut status = self.lock();
        let record = ServiceEventRecord {
            state: status.state,
            message: message.into(),
            ts: SystemTime::now(),
        };
        push_record(&mut status.events, record);
    }

    /// Records a health probe result; publishes only when healthy/unknown change.
    pub(super) fn health(&self, result: Result<(), String>) {
        let mut status = self.lock();
        if status.state != ServiceState::Running {
            return;
        }
        let (healthy, message) = match result {
            Ok(()) => (true, String::new()),
            Err(e) => (false, e),
        };
        let changed = status.health.unknown || status.health.healthy != healthy;
        status.health.last_message = message.clone();
        if !changed {
            return;
        }
        status.health.unknown = false;
        status.health.healthy = healthy;
        status.health.last_change = Some(SystemTime::now());
        let text = if healthy {
            "health check passed".to_string()
        } else {
            format!("health check failed: {message}")
        };
        self.publish(&mut status, text);
    }

    fn publish(&self, status: &mut Status, message: String) {
        let record = ServiceEventRecord {
            state: status.state,
            message: message.clone(),
            ts: SystemTime::now(),
        };
        push_record(&mut status.events, record);
        self.bus.publish(MachineEvent::ServiceState {
            service: self.id.clone(),
            state: status.state,
            message,
            health: self.has_check.then(|| status.health.clone()),
        });
        let running = status.state == ServiceState::Running;
        let spec = if self.has_check {
            ServiceResourceSpec {
                running,
                healthy: running && status.health.healthy,
                unknown: status.health.unknown,
            }
        } else {
            ServiceResourceSpec {
                running,
                healthy: running,
                unknown: false,
            }
        };
        if let Err(e) = self
            .store
            .apply(SUPERVISOR_OWNER, service_resource(&self.id, spec))
        {
            self.log
                .push(format!("[basalt] cannot publish the service resource: {e}").as_bytes());
        }
    }
}

fn push_record(events: &mut VecDeque<ServiceEventRecord>, record: ServiceEventRecord) {
    if events.len() >= HISTORY_LEN {
        events.pop_front();
    }
    events.push_back(record);
}
