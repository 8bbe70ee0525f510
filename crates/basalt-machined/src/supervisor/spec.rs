//! What a service is: [`ServiceSpec`] and its parts.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::process::wrapper::RlimitResource;

/// When a service is restarted after its process exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartPolicy {
    /// Always restart (after a backoff), whatever the exit status.
    Forever,
    /// Never restart: exit 0 ends in Finished, anything else in Failed.
    Once,
    /// Restart after failures; exit 0 ends in Finished.
    UntilSuccess,
}

/// Delay between restarts: `initial`, doubling after each consecutive failure, at most `max`.
/// A process that ran for at least `max` resets the count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
}

impl Backoff {
    /// The delay before restart number `failures + 1`.
    pub fn delay(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
        }
    }
}

/// Something a service waits for before it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dependency {
    /// The service with this id is running and healthy.
    ServiceHealthy(String),
    /// The service with this id is running.
    ServiceRunning(String),
    /// This resource exists.
    Resource {
        /// Namespace.
        ns: String,
        /// Full type.
        type_: String,
        /// Id.
        id: String,
    },
}

impl Dependency {
    /// The service this dependency names, if it names one.
    pub fn service(&self) -> Option<&str> {
        match self {
            Dependency::ServiceHealthy(id) | Dependency::ServiceRunning(id) => Some(id),
            Dependency::Resource { .. } => None,
        }
    }
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dependency::ServiceHealthy(id) => write!(f, "service {id:?} to be healthy"),
            Dependency::ServiceRunning(id) => write!(f, "service {id:?} to be running"),
            Dependency::Resource { ns, type_, id } => write!(f, "resource {ns}/{type_}/{id}"),
        }
    }
}

/// An in-process health check: resolves to `Ok` when healthy, `Err(reason)` otherwise.
pub type InProcessCheck = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// How health is probed.
#[derive(Clone)]
pub enum Probe {
    /// A TCP connect succeeds.
    Tcp(SocketAddr),
    /// `GET` of this `http://host:port/path` URL answers 2xx.
    Http(String),
    /// A function of machined itself.
    InProcess(InProcessCheck),
}

impl fmt::Debug for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::Tcp(addr) => write!(f, "Tcp({addr})"),
            Probe::Http(url) => write!(f, "Http({url:?})"),
            Probe::InProcess(_) => f.write_str("InProcess(..)"),
        }
    }
}

/// A periodic health check.
#[derive(Clone, Debug)]
pub struct HealthCheck {
    /// What to probe.
    pub probe: Probe,
    /// Time between probes.
    pub period: Duration,
    /// A probe taking longer fails.
    pub timeout: Duration,
    /// Wait this long after start before the first probe.
    pub initial_delay: Duration,
}

/// Everything the supervisor needs to run one service.
#[derive(Clone, Debug)]
pub struct ServiceSpec {
    /// Service id: letters, digits, `.`, `_`, `-` (it names the log file).
    pub id: String,
    /// Program and arguments; empty means the service is Skipped.
    pub argv: Vec<String>,
    /// The complete environment of the process.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Resource limits (resource, soft, hard); applied by `basalt runner`.
    pub rlimits: Vec<(RlimitResource, u64, u64)>,
    /// OOM score adjustment; applied by `basalt runner`.
    pub oom_score_adj: Option<i32>,
    /// Capabilities to drop (e.g. `CAP_SYS_ADMIN`); applied by `basalt runner`.
    pub drop_capabilities: Vec<String>,
    /// Restart policy.
    pub restart: RestartPolicy,
    /// Restart delays.
    pub backoff: Backoff,
    /// What must hold before the process starts.
    pub depends_on: Vec<Dependency>,
    /// Health check, if any. Without one, a running service counts as healthy.
    pub health: Option<HealthCheck>,
    /// Time between SIGTERM and SIGKILL when stopping.
    pub stop_timeout: Duration,
}

impl ServiceSpec {
    /// A spec with defaults: no env, restart forever, backoff 1 s..30 s, stop timeout 10 s.
    pub fn new(id: impl Into<String>, argv: Vec<String>) -> Self {
        ServiceSpec {
            id: id.into(),
            argv,
            env: Vec::new(),
            cwd: None,
            rlimits: Vec::new(),
            oom_score_adj: None,
            drop_capabilities: Vec::new(),
            restart: RestartPolicy::Forever,
            backoff: Backoff::default(),
            depends_on: Vec::new(),
            health: None,
            stop_timeout: Duration::from_secs(10),
        }
    }

    /// Whether the process must be started through `basalt runner`.
    pub fn needs_wrapper(&self) -> bool {
        !self.rlimits.is_empty()
            || self.oom_score_adj.is_some()
            || !self.drop_capabilities.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_max() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(700),
        };
        let delays: Vec<u128> = (0..5).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 700, 700]);
        assert_eq!(b.delay(1000), Duration::from_millis(700));
    }
}
