//! Processes: the one reaper of machined, spawning service processes with captured output, and
//! the exec wrapper (`basalt runner`) that applies rlimits, OOM score and capability drops.
//!
//! Only the [`Reaper`] may wait for children: nothing else in machined calls `wait`.

mod error;
mod reaper;
mod spawn;
pub mod wrapper;

pub use error::ProcessError;
pub use reaper::{ExitStatus, Reaper, ReaperStats};
pub use spawn::{spawn, CommandLine, Process};
