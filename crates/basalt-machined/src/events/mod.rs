//! The machine event bus: every sequence, phase, task and service transition is published here.
//!
//! The bus keeps a bounded history (so a client that reconnects can resume after the last id it
//! saw) and fans events out live. A subscriber that falls behind is told so explicitly with
//! [`EventBusError::Lagged`] instead of silently losing events.

mod bus;
mod types;

pub use bus::{EventBus, EventBusError, EventSubscription};
pub use types::{
    HealthStatus, MachineEvent, PhaseAction, SequenceAction, ServiceState, TaskAction,
};
