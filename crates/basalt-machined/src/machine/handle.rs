//! [`MachineHandle`]: what the API server (next issue) and signal handling use.

use std::sync::Arc;

use basalt_config::MachineConfig;
use basalt_resources::Store;

use super::config_apply::ConfigApplier;
use crate::events::EventBus;
use crate::pid1::console;
use crate::sequencer::{Halt, MachineState, SequenceKind, Sequencer, SequencerError};
use crate::supervisor::{ServiceInfo, Supervisor};

/// A handle on the running machine. Cheap to clone.
#[derive(Clone, Debug)]
pub struct MachineHandle {
    pub(super) store: Store,
    pub(super) bus: EventBus,
    pub(super) supervisor: Supervisor,
    pub(super) sequencer: Sequencer,
    pub(super) machine: Arc<MachineState>,
    pub(super) applier: ConfigApplier,
}

impl MachineHandle {
    /// Starts the reboot sequence in the background; fails at once when it is refused
    /// ([`SequencerError::Locked`]).
    pub fn reboot(&self) -> Result<(), SequencerError> {
        self.request(SequenceKind::Reboot)
    }

    /// Starts the shutdown sequence in the background (see [`reboot`](Self::reboot)).
    pub fn shutdown(&self) -> Result<(), SequencerError> {
        self.request(SequenceKind::Shutdown)
    }

    /// Starts the reset sequence in the background with the default options (wipe STATE
    /// and EPHEMERAL, graceful, power off); see [`reboot`](Self::reboot).
    pub fn reset(&self) -> Result<(), SequencerError> {
        self.reset_with(crate::sequencer::ResetOptions::default())
    }

    /// Starts the reset sequence with `options` (refused like [`reboot`](Self::reboot) when
    /// another sequence holds the lock; the options then stay unchanged).
    pub fn reset_with(
        &self,
        options: crate::sequencer::ResetOptions,
    ) -> Result<(), SequencerError> {
        if let Some(running) = self.sequencer.running() {
            if !SequenceKind::Reset.takes_over(running) {
                return Err(SequencerError::Locked {
                    running: running.name(),
                    requested: SequenceKind::Reset.name(),
                });
            }
        }
        self.machine.set_reset_options(options);
        self.request(SequenceKind::Reset)
    }

    fn request(&self, kind: SequenceKind) -> Result<(), SequencerError> {
        let run = self.sequencer.start(kind)?;
        tokio::spawn(async move {
            if let Err(e) = run.wait().await {
                console::log(format_args!("{e}"));
            }
        });
        Ok(())
    }

    /// Every service, sorted by id.
    pub fn services(&self) -> Vec<ServiceInfo> {
        self.supervisor.list()
    }

    /// The service supervisor.
    pub fn supervisor(&self) -> &Supervisor {
        &self.supervisor
    }

    /// The resource store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The machine event bus.
    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// The sequencer.
    pub fn sequencer(&self) -> &Sequencer {
        &self.sequencer
    }

    /// The etcd member of a control-plane node, once boot started it.
    pub fn etcd(&self) -> Option<crate::etcd::EtcdControl> {
        self.machine.etcd().get()
    }

    /// The halt the last shutdown/reset (or metal reboot) asked for, if any.
    pub fn halt_requested(&self) -> Option<Halt> {
        *self.machine.halt_requests().borrow()
    }

    /// Applies configs received over the API.
    pub fn applier(&self) -> &ConfigApplier {
        &self.applier
    }

    /// The shared machine state.
    pub fn state(&self) -> &Arc<MachineState> {
        &self.machine
    }

    /// The machine config in use, if any.
    pub fn config(&self) -> Option<MachineConfig> {
        self.machine.config()
    }
}
