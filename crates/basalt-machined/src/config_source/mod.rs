//! Where the machine config comes from, in order:
//!
//! 0. a config staged by `ApplyConfiguration` (mode STAGED), `<STATE>/config.staged.yaml`,
//!    is first promoted to `<STATE>/config.yaml` (atomic rename);
//! 1. `<STATE>/config.yaml` (persisted by an earlier boot or an apply);
//! 2. a `basalt.config=` argument (the kernel command line in metal mode, machined's own
//!    arguments — set by the launcher — in container mode), a [`ConfigLocation`]: an
//!    `http://` URL (fetched, retried while the network comes up), a block device (a raw
//!    config disk: the YAML padded with NUL bytes) or a file inside the node. A valid config
//!    found there is persisted to STATE atomically, so the next boot does not read it again;
//! 3. otherwise maintenance mode: a [`MaintenanceHook`] waits for a config.
//!
//! A config that fails decoding or validation is never used: every finding is logged and
//! the machine goes to maintenance mode.

mod disk;
mod fetch;
mod location;
mod maintenance;
mod persist;

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use basalt_config::validate::{validate, Mode};
use basalt_config::MachineConfig;
use tokio_util::sync::CancellationToken;

pub use basalt_config::MAX_CONFIG_BYTES;
pub use disk::{read_config_disk, DiskError};
pub use fetch::{
    fetch_once, fetch_with_retry, FetchError, FetchPolicy, HttpTarget, FETCH_ATTEMPT_TIMEOUT,
    FETCH_FIRST_BACKOFF, FETCH_MAX_BACKOFF, FETCH_TOTAL,
};
pub use location::{ConfigLocation, LocationError};
pub use maintenance::{Inbox, LogAndWait, MaintenanceHook, WaitForApply};
pub use persist::{rename_atomically, write_atomically, write_atomically_then, PersistError};

/// File name of the persisted config inside STATE.
pub const STATE_CONFIG_FILE: &str = "config.yaml";

/// File name of a config staged for the next boot inside STATE.
pub const STAGED_CONFIG_FILE: &str = "config.staged.yaml";

/// The argument (kernel command line word) naming a PEM file with the CA that client
/// certificates must chain to in maintenance mode.
pub const MAINTENANCE_CA_ARGUMENT: &str = "basalt.maintenance-ca=";

/// The argument (kernel command line word) naming where the config is (URL, disk, file).
pub const CONFIG_ARGUMENT: &str = "basalt.config=";

/// Which source a config came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `<STATE>/config.yaml`.
    State(PathBuf),
    /// A `basalt.config=` argument.
    Argument(ConfigLocation),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::State(p) => write!(f, "STATE ({})", p.display()),
            Origin::Argument(location) => write!(f, "{location}"),
        }
    }
}

/// Why the machine waits in maintenance mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaintenanceReason {
    /// No source had a config.
    NoConfig,
    /// A config was found but is unusable; `findings` lists every problem.
    Invalid {
        /// Where the bad config came from.
        origin: Origin,
        /// Each decode error or validation error, as printed.
        findings: Vec<String>,
    },
    /// The `basalt.config=` argument names nothing readable (bad value, missing file,
    /// unreadable disk, URL still failing after the retries).
    Unavailable {
        /// The argument as given (`basalt.config=…`).
        argument: String,
        /// The last error.
        reason: String,
    },
}

impl fmt::Display for MaintenanceReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaintenanceReason::NoConfig => write!(f, "no machine config found"),
            MaintenanceReason::Invalid { origin, findings } => write!(
                f,
                "the machine config from {origin} is invalid ({} finding(s))",
                findings.len()
            ),
            MaintenanceReason::Unavailable { argument, reason } => {
                write!(f, "no machine config from {argument}: {reason}")
            }
        }
    }
}

/// The result of [`ConfigSource::acquire`].
#[derive(Debug, Clone)]
pub enum Acquired {
    /// A decoded, validated config.
    Config {
        /// The config.
        config: Box<MachineConfig>,
        /// Where it came from.
        origin: Origin,
        /// Its size in bytes.
        bytes: usize,
        /// How long finding, reading (fetching) and validating it took.
        elapsed: Duration,
    },
    /// No usable config: go to maintenance mode.
    Maintenance(MaintenanceReason),
    /// The cancellation token fired (reboot, shutdown) while fetching.
    Cancelled,
}

/// Config acquisition settings for one boot.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    /// The node's root directory (`/` on a node; a temporary directory in tests).
    pub root: PathBuf,
    /// STATE, absolute inside the node (`/system/state`).
    pub state_dir: PathBuf,
    /// The raw `basalt.config=` value (an http URL, or an absolute path inside the node).
    pub argument: Option<PathBuf>,
    /// Validation mode.
    pub mode: Mode,
    /// Retry and size limits of an http fetch.
    pub fetch: FetchPolicy,
    /// How long a `/dev/…` argument may take to appear (disks are probed while machined
    /// starts); [`DEVICE_WAIT`] on a node.
    pub device_wait: Duration,
}

/// How long machined waits for a `basalt.config=/dev/…` device node to appear.
pub const DEVICE_WAIT: Duration = Duration::from_secs(10);

/// Waits until `host` exists if `path` is under `/dev/` (logging once that it waits), at most
/// `limit`; returns false when `cancel` fires first. A path that never appears is reported
/// by the read that follows.
async fn wait_for_device(
    path: &Path,
    host: &Path,
    limit: Duration,
    cancel: &CancellationToken,
    log: &mut (dyn FnMut(String) + Send),
) -> bool {
    if !path.starts_with("/dev") || host.exists() {
        return true;
    }
    log(format!(
        "waiting up to {} s for the config device {} to appear",
        limit.as_secs(),
        path.display()
    ));
    let deadline = Instant::now() + limit;
    while !host.exists() && Instant::now() < deadline {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = cancel.cancelled() => return false,
        }
    }
    true
}

impl ConfigSource {
    /// Finds the config; `log` receives one line per event worth the console
    /// (every validation finding, warnings, fetch failures, persistence problems).
    /// `cancel` aborts a fetch in progress ([`Acquired::Cancelled`]).
    pub async fn acquire(
        &self,
        cancel: &CancellationToken,
        log: &mut (dyn FnMut(String) + Send),
    ) -> Acquired {
        let started = Instant::now();
        let state_file = self.state_dir.join(STATE_CONFIG_FILE);
        let state_host = self.host_path(&state_file);
        self.promote_staged(&state_host, log);
        if state_host.exists() {
            let origin = Origin::State(state_file);
            return match read_file(&state_host) {
                Ok(bytes) => self.load(&bytes, origin, started, log),
                Err(e) => {
                    let finding = format!("cannot read the machine config from {origin}: {e}");
                    log(finding.clone());
                    let findings = vec![finding];
                    Acquired::Maintenance(MaintenanceReason::Invalid { origin, findings })
                }
            };
        }
        let Some(argument) = &self.argument else {
            return Acquired::Maintenance(MaintenanceReason::NoConfig);
        };
        let unavailable = |reason: String, log: &mut (dyn FnMut(String) + Send)| {
            log(reason.clone());
            Acquired::Maintenance(MaintenanceReason::Unavailable {
                argument: format!("{CONFIG_ARGUMENT}{}", argument.display()),
                reason,
            })
        };
        let location = match ConfigLocation::parse(argument) {
            Ok(location) => location,
            Err(e) => return unavailable(e.to_string(), log),
        };
        if let ConfigLocation::File(path) = &location {
            let host = self.host_path(path);
            if !wait_for_device(path, &host, self.device_wait, cancel, log).await {
                return Acquired::Cancelled;
            }
        }
        let location = location.resolve_device(&self.host_path(argument));
        let bytes = match &location {
            ConfigLocation::Url(url) => {
                match fetch_with_retry(url, &self.fetch, cancel, log).await {
                    Ok(bytes) => bytes,
                    Err(FetchError::Cancelled { .. }) => return Acquired::Cancelled,
                    Err(e) => return unavailable(e.to_string(), log),
                }
            }
            ConfigLocation::Disk(device) => {
                match read_config_disk(&self.host_path(device), device) {
                    Ok(bytes) => bytes,
                    Err(e) => return unavailable(e.to_string(), log),
                }
            }
            ConfigLocation::File(file) => match read_file(&self.host_path(file)) {
                Ok(bytes) => bytes,
                Err(e) => return unavailable(format!("cannot read {}: {e}", file.display()), log),
            },
        };
        let acquired = self.load(&bytes, Origin::Argument(location), started, log);
        if let Acquired::Config { .. } = &acquired {
            self.persist(&bytes, &state_host, log);
        }
        acquired
    }

    fn load(
        &self,
        bytes: &[u8],
        origin: Origin,
        started: Instant,
        log: &mut (dyn FnMut(String) + Send),
    ) -> Acquired {
        let config = match MachineConfig::from_bytes(bytes) {
            Ok(config) => config,
            Err(e) => {
                let finding = format!("cannot decode the machine config from {origin}: {e}");
                log(finding.clone());
                let findings = vec![finding];
                return Acquired::Maintenance(MaintenanceReason::Invalid { origin, findings });
            }
        };
        let report = validate(&config, self.mode);
        for w in &report.warnings {
            log(format!("config from {origin}: warning: {w}"));
        }
        if !report.is_ok() {
            let findings: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
            for f in &findings {
                log(format!("config from {origin}: error: {f}"));
            }
            log(format!(
                "fix the config (basaltctl validate --mode {} FILE shows the same findings)",
                self.mode
            ));
            return Acquired::Maintenance(MaintenanceReason::Invalid { origin, findings });
        }
        Acquired::Config {
            config: Box::new(config),
            origin,
            bytes: bytes.len(),
            elapsed: started.elapsed(),
        }
    }

    fn persist(&self, bytes: &[u8], state_host: &Path, log: &mut (dyn FnMut(String) + Send)) {
        match write_atomically(state_host, bytes, 0o600) {
            Ok(()) => log(format!(
                "persisted the machine config to {}",
                self.state_dir.join(STATE_CONFIG_FILE).display()
            )),
            Err(e) => log(format!(
                "warning: the config is used but not persisted, so the next boot will not find it in STATE: {e}"
            )),
        }
    }

    /// Moves a staged config over the persisted one, if there is one.
    fn promote_staged(&self, state_host: &Path, log: &mut (dyn FnMut(String) + Send)) {
        let staged = self.host_path(&self.state_dir.join(STAGED_CONFIG_FILE));
        if !staged.exists() {
            return;
        }
        match rename_atomically(&staged, state_host) {
            Ok(()) => log(format!(
                "promoted the staged machine config {} to {}",
                self.state_dir.join(STAGED_CONFIG_FILE).display(),
                self.state_dir.join(STATE_CONFIG_FILE).display()
            )),
            Err(e) => log(format!(
                "warning: the staged config is not used (it stays for the next boot): {e}"
            )),
        }
    }

    /// Maps an absolute path inside the node to the path seen by this process.
    fn host_path(&self, inside: &Path) -> PathBuf {
        self.root.join(inside.strip_prefix("/").unwrap_or(inside))
    }
}

/// Reads a config file, at most one byte over [`MAX_CONFIG_BYTES`] (decoding then reports
/// the size).
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let limit = u64::try_from(MAX_CONFIG_BYTES)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The `basalt.config=` value among whitespace-separated words (kernel command line or
/// machined arguments); the last occurrence wins, an empty value counts as absent.
pub fn config_argument<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<PathBuf> {
    argument(CONFIG_ARGUMENT, words)
}

/// The `basalt.maintenance-ca=` value among whitespace-separated words (as
/// [`config_argument`]).
pub fn maintenance_ca_argument<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<PathBuf> {
    argument(MAINTENANCE_CA_ARGUMENT, words)
}

fn argument<'a>(prefix: &str, words: impl IntoIterator<Item = &'a str>) -> Option<PathBuf> {
    words
        .into_iter()
        .filter_map(|w| w.strip_prefix(prefix))
        .filter(|v| !v.is_empty())
        .last()
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests;
