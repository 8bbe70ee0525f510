//! Sequencer errors.

/// Why a sequence did not run or did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SequencerError {
    /// Another sequence runs and may not be interrupted by this one.
    #[error("sequence {requested:?} refused: sequence {running:?} is running (locked); wait until it ends (only reboot, shutdown and reset may interrupt initialize or boot)")]
    Locked {
        /// The sequence that runs.
        running: &'static str,
        /// The sequence asked for.
        requested: &'static str,
    },
    /// The sequence was interrupted by a takeover.
    #[error("sequence {sequence:?} was cancelled: {by:?} took over")]
    Cancelled {
        /// The interrupted sequence.
        sequence: &'static str,
        /// The sequence that took over.
        by: &'static str,
    },
    /// A task failed; the sequence stopped there.
    #[error("sequence {sequence:?} stopped: task {phase}/{task} failed: {error}")]
    TaskFailed {
        /// Sequence name.
        sequence: &'static str,
        /// Phase name.
        phase: String,
        /// Task name.
        task: String,
        /// The task's error, with its causes.
        error: String,
    },
    /// The sequencer has no definition for this sequence on this platform.
    #[error("sequence {0:?} is not defined on this platform")]
    NotDefined(&'static str),
    /// The run ended without reporting (its task was aborted).
    #[error("sequence {0:?} ended unexpectedly (its task was aborted); see the console log")]
    Aborted(&'static str),
}
