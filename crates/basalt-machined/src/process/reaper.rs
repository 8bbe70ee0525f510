//! The reaper: the only code in machined that waits for children.
//!
//! One background task (on its own thread, so it outlives any caller's runtime) reaps every
//! zombie with `waitpid(-1, WNOHANG)` on each SIGCHLD and on a periodic safety tick, and hands
//! exit statuses to whoever registered the pid. Orphans re-parented to us are reaped too.

use std::collections::HashMap;
use std::fmt;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use tokio::sync::oneshot;

use super::ProcessError;

/// How often the reaper looks for zombies even without SIGCHLD.
const SAFETY_TICK: Duration = Duration::from_millis(500);
/// How long the status of an exited, not (yet) registered pid is kept for a late `register`.
const UNCLAIMED_TTL: Duration = Duration::from_secs(30);
/// At most this many unclaimed statuses are kept.
const UNCLAIMED_MAX: usize = 4096;

/// How a child process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by this signal number.
    Signaled(i32),
}

impl ExitStatus {
    /// True for exit code 0.
    pub fn success(self) -> bool {
        self == ExitStatus::Exited(0)
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Exited(code) => write!(f, "exited with code {code}"),
            ExitStatus::Signaled(sig) => match Signal::try_from(*sig) {
                Ok(name) => write!(f, "killed by signal {name} ({sig})"),
                Err(_) => write!(f, "killed by signal {sig}"),
            },
        }
    }
}

/// Counters of the reaper (for tests and diagnostics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReaperStats {
    /// Children reaped in total.
    pub reaped: u64,
    /// Statuses handed to a registrant.
    pub delivered: u64,
    /// Reaped children nobody had registered when they were reaped (orphans, or fast exits
    /// registered later).
    pub unregistered: u64,
}

/// Handle to the process-wide reaper. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Reaper {
    inner: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    waiting: HashMap<Pid, oneshot::Sender<ExitStatus>>,
    unclaimed: HashMap<Pid, (ExitStatus, Instant)>,
    stats: ReaperStats,
}

static GLOBAL: Mutex<Option<Reaper>> = Mutex::new(None);

impl Reaper {
    /// Starts the reaper (once per process; later calls return the same reaper). Makes this
    /// process the child subreaper when it is not PID 1, so orphans come to us as they would
    /// to PID 1.
    pub fn start() -> Result<Reaper, ProcessError> {
        let mut global = GLOBAL.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(reaper) = global.as_ref() {
            return Ok(reaper.clone());
        }
        if std::process::id() != 1 {
            nix::sys::prctl::set_child_subreaper(true).map_err(ProcessError::Subreaper)?;
        }
        let reaper = Reaper {
            inner: Arc::default(),
        };
        let background = reaper.clone();
        std::thread::Builder::new()
            .name("reaper".into())
            .spawn(move || background.run())
            .map_err(ProcessError::ReaperThread)?;
        *global = Some(reaper.clone());
        Ok(reaper)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Delivers the exit status of `pid` to the returned receiver (at once if it already
    /// exited and was reaped in the last 30 s).
    pub fn register(&self, pid: Pid) -> oneshot::Receiver<ExitStatus> {
        let mut state = self.lock();
        register_locked(&mut state, pid)
    }

    /// Spawns `cmd` and registers the child before the reaper can see it exit. Use this
    /// instead of `Command::spawn` + [`register`](Self::register): it also keeps the reaper
    /// from reaping a child whose exec failed before std has collected it. Never call
    /// `wait` on the returned `Child`; drop it.
    pub fn spawn(
        &self,
        cmd: &mut Command,
    ) -> std::io::Result<(Child, oneshot::Receiver<ExitStatus>)> {
        let mut state = self.lock();
        let child = cmd.spawn()?;
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
        // A status kept for an earlier process with the same pid is stale now.
        state.unclaimed.remove(&pid);
        let rx = register_locked(&mut state, pid);
        Ok((child, rx))
    }

    /// Reaps every zombie now; returns how many were reaped.
    pub fn reap_now(&self) -> usize {
        let mut state = self.lock();
        let mut count = 0;
        loop {
            let (pid, status) = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => (pid, ExitStatus::Exited(code)),
                Ok(WaitStatus::Signaled(pid, sig, _core)) => {
                    (pid, ExitStatus::Signaled(sig as i32))
                }
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => break,
                Err(Errno::EINTR) => continue,
                // Stop/continue/ptrace events are not requested; nothing else is expected.
                Ok(_) | Err(_) => break,
            };
            count += 1;
            state.stats.reaped += 1;
            match state.waiting.remove(&pid) {
                Some(tx) => {
                    state.stats.delivered += 1;
                    let _receiver_may_be_gone = tx.send(status);
                }
                None => {
                    state.stats.unregistered += 1;
                    state.unclaimed.insert(pid, (status, Instant::now()));
                }
            }
        }
        prune(&mut state.unclaimed);
        count
    }

    /// The reaper's counters.
    pub fn stats(&self) -> ReaperStats {
        self.lock().stats
    }

    fn run(self) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let Ok(runtime) = runtime else {
            // Without a runtime there is no SIGCHLD stream: poll instead, forever.
            loop {
                self.reap_now();
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        runtime.block_on(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let mut sigchld = signal(SignalKind::child()).ok();
            let period = if sigchld.is_some() {
                SAFETY_TICK
            } else {
                Duration::from_millis(50)
            };
            let mut tick = tokio::time::interval(period);
            loop {
                self.reap_now();
                let signalled = async {
                    match sigchld.as_mut() {
                        Some(s) => s.recv().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    received = signalled => {
                        if received.is_none() {
                            sigchld = None;
                        }
                    }
                    _ = tick.tick() => {}
                }
            }
        });
    }
}

fn register_locked(state: &mut State, pid: Pid) -> oneshot::Receiver<ExitStatus> {
    let (tx, rx) = oneshot::channel();
    if let Some((status, _)) = state.unclaimed.remove(&pid) {
        state.stats.delivered += 1;
        let _receiver_is_here = tx.send(status);
    } else {
        state.waiting.insert(pid, tx);
    }
    rx
}

fn prune(unclaimed: &mut HashMap<Pid, (ExitStatus, Instant)>) {
    unclaimed.retain(|_, (_, at)| at.elapsed() < UNCLAIMED_TTL);
    while unclaimed.len() > UNCLAIMED_MAX {
        let oldest = unclaimed
            .iter()
            .min_by_key(|(_, (_, at))| *at)
            .map(|(pid, _)| *pid);
        match oldest {
            Some(pid) => unclaimed.remove(&pid),
            None => break,
        };
    }
}
