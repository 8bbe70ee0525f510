//! Starting a process in its own process group with its output captured into a service log,
//! and stopping it (SIGTERM to the group, SIGKILL after a timeout).

use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::sync::oneshot;

use super::{ExitStatus, ProcessError, Reaper};
use crate::logs::{LineSplitter, ServiceLog};

/// How long to wait for a process group after SIGKILL before giving up on it.
const KILL_GRACE: Duration = Duration::from_secs(10);

/// What to execute.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandLine {
    /// Program and arguments; `argv[0]` is the program (a path, or a name looked up in the
    /// `PATH` given in `env`).
    pub argv: Vec<String>,
    /// The complete environment (nothing is inherited from machined).
    pub env: Vec<(String, String)>,
    /// Working directory (default: machined's).
    pub cwd: Option<PathBuf>,
}

/// A started process; its exit status comes from the [`Reaper`].
#[derive(Debug)]
pub struct Process {
    pid: Pid,
    exit: oneshot::Receiver<ExitStatus>,
    status: Option<ExitStatus>,
}

/// Starts `cmd` in a new process group, stdin from /dev/null, stdout and stderr line by line
/// into `log`. Must be called inside a tokio runtime.
pub fn spawn(
    reaper: &Reaper,
    cmd: &CommandLine,
    log: &ServiceLog,
) -> Result<Process, ProcessError> {
    let program = cmd.argv.first().ok_or(ProcessError::EmptyCommand)?;
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| ProcessError::NoRuntime {
        program: program.clone(),
    })?;
    let mut command = Command::new(program);
    command
        .args(&cmd.argv[1..])
        .env_clear()
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(cwd) = &cmd.cwd {
        command.current_dir(cwd);
    }
    let (mut child, exit) = reaper
        .spawn(&mut command)
        .map_err(|source| ProcessError::Spawn {
            program: program.clone(),
            source,
        })?;
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    if let Some(out) = child.stdout.take() {
        runtime.spawn(copy_lines(OwnedFd::from(out), log.clone()));
    }
    if let Some(err) = child.stderr.take() {
        runtime.spawn(copy_lines(OwnedFd::from(err), log.clone()));
    }
    // The reaper owns waiting: the std handle is dropped without `wait`.
    drop(child);
    Ok(Process {
        pid,
        exit,
        status: None,
    })
}

async fn copy_lines(fd: OwnedFd, log: ServiceLog) {
    let mut pipe = match tokio::net::unix::pipe::Receiver::from_owned_fd(fd) {
        Ok(pipe) => pipe,
        Err(e) => {
            log.push(format!("[basalt] cannot read the process output: {e}").as_bytes());
            return;
        }
    };
    let mut splitter = LineSplitter::new(16 * 1024);
    let mut buf = vec![0u8; 8192];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => splitter.feed(&buf[..n], |line| log.push(line)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    splitter.finish(|line| log.push(line));
}

impl Process {
    /// The process id (also its process group id).
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Waits for the process to exit. Then kills what is left of its process group.
    pub async fn wait(&mut self) -> Result<ExitStatus, ProcessError> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = (&mut self.exit)
            .await
            .map_err(|_| ProcessError::ReaperGone {
                pid: self.pid.as_raw(),
            })?;
        self.status = Some(status);
        // Children the process left behind in its group go with it.
        let _group_may_be_empty = killpg(self.pid, Signal::SIGKILL);
        Ok(status)
    }

    /// Sends `signal` to the whole process group (no-op once it exited).
    pub fn signal(&self, signal: Signal) {
        if self.status.is_none() {
            let _group_may_be_gone = killpg(self.pid, signal);
        }
    }

    /// Stops the process: SIGTERM to its group, SIGKILL after `timeout`, then waits until the
    /// reaper confirms the exit.
    pub async fn stop(&mut self, timeout: Duration) -> Result<ExitStatus, ProcessError> {
        self.signal(Signal::SIGTERM);
        if let Ok(status) = tokio::time::timeout(timeout, self.wait()).await {
            return status;
        }
        self.signal(Signal::SIGKILL);
        match tokio::time::timeout(KILL_GRACE, self.wait()).await {
            Ok(status) => status,
            Err(_) => Err(ProcessError::Unkillable {
                pgid: self.pid.as_raw(),
                waited_ms: KILL_GRACE.as_millis(),
            }),
        }
    }
}
