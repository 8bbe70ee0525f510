//! The sequencer: named sequences of named phases of named tasks, one sequence at a time.
//!
//! Sequences (see [`sequences`]): `initialize`, `boot`, `reboot`, `shutdown`, `reset`.
//! Phases run in order; the tasks of a phase run in order too. Every sequence, phase and task
//! start/stop is a [`MachineEvent`](crate::events::MachineEvent) on the bus and a console
//! line. A failing task stops its sequence with an error event; the machine keeps running
//! and accepts reboot/shutdown. Reboot, shutdown and reset take over a running initialize or
//! boot; any other overlap is refused with [`SequencerError::Locked`].
//!
//! A task is an async function of a [`Context`] (taken by value: it is a bundle of cheap
//! handles, which keeps task signatures free of lifetimes).

mod context;
mod definition;
mod error;
mod kind;
pub mod reset;
mod runner;
pub mod sequences;
pub mod tasks;

pub use context::{Context, Halt, MachineState};
pub use definition::{Phase, Sequence, SequenceSet, Task, TaskFn};
pub use error::SequencerError;
pub use kind::SequenceKind;
pub use reset::{ResetError, ResetOptions, SystemLabel};
pub use runner::{RunHandle, Sequencer};
