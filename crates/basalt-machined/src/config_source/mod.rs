//! Where the machine config comes from, in order:
//!
//! 0. a config staged by `ApplyConfiguration` (mode STAGED), `<STATE>/config.staged.yaml`,
//!    is first promoted to `<STATE>/config.yaml` (atomic rename);
//! 1. `<STATE>/config.yaml` (persisted by an earlier boot or an apply);
//! 2. a `basalt.config=PATH` argument (the kernel command line in metal mode, machined's own
//!    arguments — set by the launcher — in container mode); PATH is a file inside the node.
//!    A valid config found there is persisted to STATE atomically;
//! 3. otherwise maintenance mode: a [`MaintenanceHook`] waits for a config.
//!
//! A config that fails decoding or validation is never used: every finding is logged and
//! the machine goes to maintenance mode.

mod maintenance;
mod persist;

use std::fmt;
use std::path::{Path, PathBuf};

use basalt_config::validate::{validate, Mode};
use basalt_config::MachineConfig;

pub use maintenance::{Inbox, LogAndWait, MaintenanceHook, WaitForApply};
pub use persist::{rename_atomically, write_atomically, write_atomically_then, PersistError};

/// File name of the persisted config inside STATE.
pub const STATE_CONFIG_FILE: &str = "config.yaml";

/// File name of a config staged for the next boot inside STATE.
pub const STAGED_CONFIG_FILE: &str = "config.staged.yaml";

/// The argument (kernel command line word) naming a PEM file with the CA that client
/// certificates must chain to in maintenance mode.
pub const MAINTENANCE_CA_ARGUMENT: &str = "basalt.maintenance-ca=";

/// The argument (kernel command line word) naming a config file.
pub const CONFIG_ARGUMENT: &str = "basalt.config=";

/// Which source a config came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `<STATE>/config.yaml`.
    State(PathBuf),
    /// A `basalt.config=` argument; the file it named.
    Argument(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::State(p) => write!(f, "STATE ({})", p.display()),
            Origin::Argument(p) => write!(f, "{CONFIG_ARGUMENT}{}", p.display()),
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
    },
    /// No usable config: go to maintenance mode.
    Maintenance(MaintenanceReason),
}

/// Config acquisition settings for one boot.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    /// The node's root directory (`/` on a node; a temporary directory in tests).
    pub root: PathBuf,
    /// STATE, absolute inside the node (`/system/state`).
    pub state_dir: PathBuf,
    /// The `basalt.config=` value, a path inside the node.
    pub argument: Option<PathBuf>,
    /// Validation mode.
    pub mode: Mode,
}

impl ConfigSource {
    /// Finds the config; `log` receives one line per event worth the console
    /// (every validation finding, warnings, persistence problems).
    pub fn acquire(&self, log: &mut dyn FnMut(String)) -> Acquired {
        let state_file = self.state_dir.join(STATE_CONFIG_FILE);
        let state_host = self.host_path(&state_file);
        self.promote_staged(&state_host, log);
        if state_host.exists() {
            return self.load(&state_host, Origin::State(state_file), log);
        }
        let Some(argument) = &self.argument else {
            return Acquired::Maintenance(MaintenanceReason::NoConfig);
        };
        let origin = Origin::Argument(argument.clone());
        let acquired = self.load(&self.host_path(argument), origin, log);
        if let Acquired::Config { .. } = &acquired {
            self.persist(argument, &state_host, log);
        }
        acquired
    }

    fn load(&self, file: &Path, origin: Origin, log: &mut dyn FnMut(String)) -> Acquired {
        let config = match MachineConfig::from_file(file) {
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
        }
    }

    fn persist(&self, argument: &Path, state_host: &Path, log: &mut dyn FnMut(String)) {
        let copied = std::fs::read(self.host_path(argument))
            .map_err(|source| PersistError::Io {
                op: "read",
                path: self.host_path(argument),
                source,
            })
            .and_then(|bytes| write_atomically(state_host, &bytes, 0o600));
        match copied {
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
    fn promote_staged(&self, state_host: &Path, log: &mut dyn FnMut(String)) {
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
