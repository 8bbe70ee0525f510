//! Errors of the health checks.

use std::time::Duration;

/// Why the cluster is not (known to be) healthy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HealthError {
    /// A check did not pass within the wait timeout.
    #[error("health check {check:?} failed after {:.1}s: {detail}", elapsed.as_secs_f64())]
    CheckFailed {
        /// The check's name.
        check: &'static str,
        /// How long it was tried.
        elapsed: Duration,
        /// What is wrong where (the last attempt's findings).
        detail: String,
    },
    /// A node's machine type could not be read (to sort it into control plane or worker).
    #[error("cannot tell whether node {node} is a control-plane node: {reason}; give the nodes with --control-plane-nodes and --worker-nodes")]
    Classify {
        /// The node as given.
        node: String,
        /// What failed.
        reason: String,
    },
    /// No control-plane node to check.
    #[error("no control-plane node to check: {0}")]
    NoControlPlane(String),
    /// The connection to apid could not be set up.
    #[error("cannot connect to apid at {endpoint}: {reason}")]
    Connect {
        /// `HOST:PORT`.
        endpoint: String,
        /// What failed.
        reason: String,
    },
}
