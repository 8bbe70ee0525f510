//! Per-service logs: a bounded in-memory ring of lines, live followers, and (once `/var` is
//! mounted) an append-only file `<dir>/<service>.log` with size-based rotation.
//!
//! Nothing here ever blocks the writer (the service's pipe reader): a slow follower loses lines
//! and is told how many with a marker line; a slow disk loses lines and the file gets a marker.

mod file;
mod lines;
mod service_log;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

pub use lines::LineSplitter;
pub use service_log::{LogFollower, LogStream, ServiceLog};

/// Size limits of every service log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogLimits {
    /// Ring buffer limit in bytes (line contents).
    pub max_bytes: usize,
    /// Ring buffer limit in lines.
    pub max_lines: usize,
    /// Longest line kept; longer lines are split.
    pub max_line: usize,
    /// How many lines a follower may be behind before it loses lines.
    pub follow_buffer: usize,
    /// How many lines may wait for the disk before lines are dropped.
    pub file_queue: usize,
    /// Size at which `<svc>.log` is renamed to `<svc>.log.1` (the previous `.1` is removed).
    pub rotate_bytes: u64,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            max_bytes: 1024 * 1024,
            max_lines: 10_000,
            max_line: 16 * 1024,
            follow_buffer: 1024,
            file_queue: 4096,
            rotate_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Errors of the log store.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// File logging needs a tokio runtime to run its writer task.
    #[error("cannot start the log file writer for {service}: no tokio runtime is running; call set_log_dir from inside machined's runtime")]
    NoRuntime {
        /// The service.
        service: String,
    },
}

/// All service logs, by service id. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct LogStore {
    inner: Arc<Mutex<Inner>>,
    limits: LogLimits,
}

#[derive(Debug, Default)]
struct Inner {
    dir: Option<PathBuf>,
    logs: BTreeMap<String, ServiceLog>,
}

impl LogStore {
    /// A store whose logs use `limits`.
    pub fn new(limits: LogLimits) -> Self {
        LogStore {
            inner: Arc::default(),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The log of `service`, created (and attached to the log directory, if set) on first use.
    /// `service` must be a valid file name (the supervisor checks service ids). A failure to
    /// attach the file is written into the log itself.
    pub fn log(&self, service: &str) -> ServiceLog {
        let mut inner = self.lock();
        if let Some(log) = inner.logs.get(service) {
            return log.clone();
        }
        let log = ServiceLog::new(service, self.limits);
        if let Some(dir) = &inner.dir {
            if let Err(e) = log.attach_dir(dir) {
                log.push(format!("[basalt] {e}").as_bytes());
            }
        }
        inner.logs.insert(service.to_string(), log.clone());
        log
    }

    /// The log of `service` if it exists.
    pub fn get(&self, service: &str) -> Option<ServiceLog> {
        self.lock().logs.get(service).cloned()
    }

    /// From now on, every log is also appended to `<dir>/<service>.log` (the lines already in
    /// memory are written first). Returns the first error; other logs are still attached.
    pub fn set_log_dir(&self, dir: PathBuf) -> Result<(), LogError> {
        let mut inner = self.lock();
        let mut first_error = None;
        for log in inner.logs.values() {
            if let Err(e) = log.attach_dir(&dir) {
                first_error.get_or_insert(e);
            }
        }
        inner.dir = Some(dir);
        first_error.map_or(Ok(()), Err)
    }

    /// Stops writing log files (before EPHEMERAL is unmounted): every writer closes its file;
    /// logs created later stay in memory only.
    pub fn clear_log_dir(&self) {
        let mut inner = self.lock();
        for log in inner.logs.values() {
            log.detach_dir();
        }
        inner.dir = None;
    }
}
