//! A real machined API server (real store, event bus, supervisor and `sh -c` services) on a
//! temporary unix socket, and helpers running the real `basaltctl` binary against it.
//!
//! The supervisor's reaper reaps every child of this test process, so `basaltctl` is spawned
//! through [`Reaper::spawn`] and its exit status comes from the reaper (std's `wait` would
//! find the child already reaped).
#![allow(clippy::unwrap_used, dead_code)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use basalt_machined::api::{serve, ApiHandle, NodeInfo, PowerControl};
use basalt_machined::events::EventBus;
use basalt_machined::process::{ExitStatus, Reaper};
use basalt_machined::sequencer::SequencerError;
use basalt_machined::supervisor::{
    Backoff, ServiceInfo, ServiceSpec, ServiceState, Supervisor, SupervisorConfig,
};
use basalt_resources::Store;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// Generous bound on any wait, so a broken server fails the test instead of hanging it.
pub const LONG: Duration = Duration::from_secs(30);

/// Records power requests; refuses them (as a busy sequencer would) when `locked`.
#[derive(Debug, Default)]
pub struct PowerRecorder {
    pub requests: Mutex<Vec<&'static str>>,
    pub locked: Mutex<bool>,
}

impl PowerRecorder {
    fn record(&self, what: &'static str) -> Result<(), SequencerError> {
        if *self.locked.lock().unwrap() {
            return Err(SequencerError::Locked {
                running: "boot",
                requested: what,
            });
        }
        self.requests.lock().unwrap().push(what);
        Ok(())
    }
}

impl PowerControl for PowerRecorder {
    fn reboot(&self) -> Result<(), SequencerError> {
        self.record("reboot")
    }

    fn shutdown(&self) -> Result<(), SequencerError> {
        self.record("shutdown")
    }
}

/// One finished run of `basaltctl`.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success; returns stdout.
    pub fn ok(&self) -> &str {
        assert!(self.status.success(), "expected success: {self:#?}");
        &self.stdout
    }

    /// Asserts exit code 1 with exactly one `error: ` line and no panic; returns that line.
    pub fn fails(&self) -> &str {
        assert_eq!(self.status, ExitStatus::Exited(1), "{self:#?}");
        assert!(self.stderr.starts_with("error: "), "{self:#?}");
        assert_eq!(self.stderr.lines().count(), 1, "{self:#?}");
        assert!(!self.stderr.contains("panicked"), "{self:#?}");
        self.stderr.trim_end()
    }
}

/// A running API server.
pub struct Node {
    _dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub store: Store,
    pub bus: EventBus,
    pub supervisor: Supervisor,
    pub power: Arc<PowerRecorder>,
    pub reaper: Reaper,
    shutdown: CancellationToken,
}

/// A `sh -c` service restarted quickly after a crash.
pub fn sh(id: &str, script: &str) -> ServiceSpec {
    let mut spec = ServiceSpec::new(id, vec!["/bin/sh".into(), "-c".into(), script.into()]);
    spec.env = vec![("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into())];
    spec.backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
    };
    spec.stop_timeout = Duration::from_secs(2);
    spec
}

/// The kernel hostname: what the server reports as the node name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

impl Node {
    /// Starts `services` and serves the API on a socket in a fresh temporary directory.
    pub async fn start(services: Vec<ServiceSpec>) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("run/machine.sock");
        let store = Store::new();
        let bus = EventBus::new(4096);
        let reaper = Reaper::start().unwrap();
        let supervisor = Supervisor::new(
            store.clone(),
            bus.clone(),
            reaper.clone(),
            SupervisorConfig {
                log_dir: None,
                wrapper: PathBuf::from("/nonexistent/basalt"),
            },
        );
        for spec in services {
            supervisor.load(spec).unwrap();
        }
        supervisor.start_all().await;
        let power = Arc::new(PowerRecorder::default());
        let handle = ApiHandle {
            store: store.clone(),
            bus: bus.clone(),
            supervisor: supervisor.clone(),
            power: power.clone(),
            node: NodeInfo {
                platform: "container".into(),
                rbac: false,
                image_version: None,
            },
            machined_log: None,
            kmsg_path: PathBuf::from("/dev/kmsg"),
        };
        let shutdown = CancellationToken::new();
        let (path, token) = (socket.clone(), shutdown.clone());
        tokio::spawn(async move { serve(handle, &path, token).await.unwrap() });
        let start = Instant::now();
        while !socket.exists() {
            assert!(start.elapsed() < LONG, "the server never bound {socket:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Node {
            _dir: dir,
            socket,
            store,
            bus,
            supervisor,
            power,
            reaper,
            shutdown,
        }
    }

    /// `basaltctl --socket <socket> args...` with a clean environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_basaltctl"));
        cmd.env_clear()
            .env("HOME", self._dir.path())
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs `basaltctl args...` (no `--socket`: over the network) to completion.
    pub async fn run_network(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_basaltctl"));
        cmd.env_clear()
            .env("HOME", self._dir.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        run_command(&self.reaper, cmd).await
    }

    /// Runs `basaltctl` to completion.
    pub async fn run(&self, args: &[&str]) -> Run {
        run_command(&self.reaper, self.command(args)).await
    }

    /// Starts a streaming `basaltctl` (logs -f, get -w, events).
    pub fn stream(&self, args: &[&str]) -> Streaming {
        Streaming::spawn(&self.reaper, self.command(args))
    }

    /// Waits until service `id` satisfies `cond`.
    pub async fn wait_service(&self, id: &str, cond: impl Fn(&ServiceInfo) -> bool) -> ServiceInfo {
        let start = Instant::now();
        loop {
            let info = self.supervisor.info(id).unwrap();
            if cond(&info) {
                return info;
            }
            assert!(
                start.elapsed() < LONG,
                "service {id} never got there: {info:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until service `id` is in `state`.
    pub async fn wait_state(&self, id: &str, state: ServiceState) -> ServiceInfo {
        self.wait_service(id, |i| i.state == state).await
    }

    /// Stops every service and the server.
    pub async fn stop(self) {
        self.supervisor.stop_all().await;
        self.shutdown.cancel();
    }
}

/// Runs `cmd` to completion through the reaper, collecting its output.
pub async fn run_command(reaper: &Reaper, mut cmd: Command) -> Run {
    let (mut child, exit) = reaper.spawn(&mut cmd).unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let err = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let status = tokio::time::timeout(LONG, exit)
        .await
        .expect("basaltctl did not finish in time")
        .unwrap();
    Run {
        status,
        stdout: out.await.unwrap(),
        stderr: err.await.unwrap(),
    }
}

/// A running `basaltctl` whose stdout lines arrive on a channel.
pub struct Streaming {
    child: Child,
    lines: mpsc::Receiver<String>,
    exit: oneshot::Receiver<ExitStatus>,
    stderr: Arc<Mutex<String>>,
}

impl Streaming {
    fn spawn(reaper: &Reaper, mut cmd: Command) -> Streaming {
        let (mut child, exit) = reaper.spawn(&mut cmd).unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr_pipe = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            *sink.lock().unwrap() = text;
        });
        Streaming {
            child,
            lines,
            exit,
            stderr,
        }
    }

    /// The next stdout line (panics after [`LONG`], showing stderr).
    pub fn next_line(&self) -> String {
        match self.lines.recv_timeout(LONG) {
            Ok(line) => line,
            Err(err) => panic!(
                "no line from basaltctl ({err}); stderr so far: {}",
                self.stderr.lock().unwrap()
            ),
        }
    }

    /// Lines up to and including the first one matching `pred`.
    pub fn lines_until(&self, pred: impl Fn(&str) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self.next_line();
            let done = pred(&line);
            seen.push(line);
            if done {
                return seen;
            }
        }
    }

    /// Kills the process (SIGKILL, as an interrupted user would) and waits for it.
    pub async fn kill(mut self) -> ExitStatus {
        let _ = self.child.kill();
        tokio::time::timeout(LONG, &mut self.exit)
            .await
            .expect("basaltctl did not die")
            .unwrap()
    }
}
