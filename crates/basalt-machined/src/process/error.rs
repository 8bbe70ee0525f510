//! Errors of process handling.

/// What went wrong starting, signalling or waiting for a process.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The command line is empty.
    #[error("cannot start a process with an empty command line; give at least the program path")]
    EmptyCommand,
    /// `spawn` failed (program missing, not executable, bad working directory ...).
    #[error("cannot start {program:?}: {source}; check that the program exists and is executable and that the working directory exists")]
    Spawn {
        /// The program that could not be started.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Process handling needs a tokio runtime (pipe readers are tasks).
    #[error("cannot start {program:?}: no tokio runtime is running; processes are started from inside machined's runtime")]
    NoRuntime {
        /// The program.
        program: String,
    },
    /// Becoming the child subreaper failed.
    #[error("cannot become the child subreaper (prctl PR_SET_CHILD_SUBREAPER): {0}; orphaned processes would not be reaped")]
    Subreaper(#[source] nix::Error),
    /// The reaper thread could not be started.
    #[error("cannot start the reaper thread: {0}; the system is out of resources")]
    ReaperThread(#[source] std::io::Error),
    /// The reaper dropped a registration (it cannot happen while machined runs).
    #[error("the reaper stopped before process {pid} exited; its exit status is unknown")]
    ReaperGone {
        /// The process id.
        pid: i32,
    },
    /// The process did not exit even after SIGKILL.
    #[error("process group {pgid} did not exit within {waited_ms} ms after SIGKILL; it may be stuck in the kernel (uninterruptible sleep)")]
    Unkillable {
        /// The process group id.
        pgid: i32,
        /// How long we waited after SIGKILL.
        waited_ms: u128,
    },
}
