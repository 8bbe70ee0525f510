//! Applying a machine config received over the API (`ApplyConfiguration`).
//!
//! Every apply decodes strictly and validates for the platform mode first; an invalid config
//! changes nothing. Then, by mode:
//!
//! | mode | what happens |
//! |---|---|
//! | `auto` | `no-reboot` when every changed path is in [`LIVE_APPLY`], else `reboot` |
//! | `no-reboot` | persist, apply live; refused (naming the fields) when a change needs a reboot |
//! | `reboot` | persist, then run the reboot sequence |
//! | `staged` | persist as `STATE/config.staged.yaml`; promoted at the next boot |
//! | `try` | apply live without persisting; the persisted config comes back after the timeout unless a later apply confirms (replaces) it |
//!
//! `dry_run` reports the mode that would be used and a diff, and changes nothing. Applying
//! live republishes the `MachineConfigs` resource (apid and controllers watch it) and the
//! hostname. Without a current config (maintenance mode) the config is persisted and handed
//! to the waiting boot through the machine's [`Inbox`](crate::config_source::Inbox).
//!
//! Persisting is atomic ([`write_atomically_then`]). Test facility: with the environment
//! variable `BASALT_FAILPOINT=apply-after-temp-write`, machined kills itself right after the
//! temporary file is written and synced, before the rename (the crash test uses it).

mod diff;
mod plan;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use basalt_config::validate::validate;
use basalt_config::MachineConfig;
use basalt_resources::StoreError;
use tokio_util::sync::CancellationToken;

pub use diff::unified;
pub use plan::{is_live, plan, Plan, LIVE_APPLY};

use crate::config_source::{
    write_atomically_then, PersistError, STAGED_CONFIG_FILE, STATE_CONFIG_FILE,
};
use crate::machine::resources;
use crate::pid1::console;
use crate::sequencer::{tasks, Context, SequenceKind, Sequencer, SequencerError};

/// Rollback delay of `try` when the request gives none (Talos's default).
pub const DEFAULT_TRY_TIMEOUT: Duration = Duration::from_secs(60);

/// Environment variable naming a failpoint (test facility).
pub const FAILPOINT_ENV: &str = "BASALT_FAILPOINT";

/// Failpoint: die after the temporary config file is written and synced, before the rename.
pub const FAILPOINT_AFTER_TEMP_WRITE: &str = "apply-after-temp-write";

/// How a new config takes effect (Talos's `ApplyConfigurationRequest.Mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyMode {
    /// Persist, then reboot.
    Reboot,
    /// Live when possible, else reboot.
    Auto,
    /// Live; refused when a reboot is needed.
    NoReboot,
    /// Persist for the next boot only.
    Staged,
    /// Live without persisting, rolled back after a timeout unless confirmed.
    Try,
}

impl fmt::Display for ApplyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApplyMode::Reboot => "reboot",
            ApplyMode::Auto => "auto",
            ApplyMode::NoReboot => "no-reboot",
            ApplyMode::Staged => "staged",
            ApplyMode::Try => "try",
        })
    }
}

/// One apply request.
#[derive(Clone, Debug)]
pub struct ApplyRequest {
    /// The config text (YAML stream).
    pub data: Vec<u8>,
    /// The requested mode.
    pub mode: ApplyMode,
    /// Only report; change nothing.
    pub dry_run: bool,
    /// Rollback delay of `try` ([`DEFAULT_TRY_TIMEOUT`] when `None`).
    pub try_timeout: Option<Duration>,
}

/// What an apply did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The mode used (`auto` resolves to `no-reboot` or `reboot`).
    pub mode: ApplyMode,
    /// What happened and why (with a diff for dry runs).
    pub details: String,
    /// Validation warnings.
    pub warnings: Vec<String>,
}

/// Why an apply was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Decoding or validation failed; every finding with its document, line and path.
    #[error("the machine config is invalid; nothing was changed. Fix these and apply again:\n{}", .0.join("\n"))]
    Invalid(Vec<String>),
    /// The mode may not reboot but a changed field needs it.
    #[error("mode {mode} cannot apply this config: these changed fields need a reboot: {}; use mode auto or reboot (or staged for the next boot)", paths.join(", "))]
    NeedsReboot {
        /// The requested mode.
        mode: ApplyMode,
        /// The fields.
        paths: Vec<String>,
    },
    /// The mode makes no sense without a current config.
    #[error("mode {0} is not available in maintenance mode (the node has no config yet); use auto, no-reboot or reboot")]
    NotInMaintenance(ApplyMode),
    /// Writing STATE failed.
    #[error("cannot persist the machine config: {0}")]
    Persist(#[from] PersistError),
    /// Publishing the config resource failed.
    #[error("cannot publish the machine config: {0}")]
    Store(#[from] StoreError),
    /// The new config is persisted but the reboot was refused.
    #[error("the new config is persisted and takes effect at the next reboot, but the reboot was refused: {0}")]
    Reboot(SequencerError),
}

/// Applies configs to the running machine. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ConfigApplier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sequencer: Sequencer,
    rollback: Mutex<Option<CancellationToken>>,
    serial: tokio::sync::Mutex<()>,
}

impl ConfigApplier {
    /// An applier for the machine run by `sequencer`.
    pub fn new(sequencer: Sequencer) -> Self {
        ConfigApplier {
            inner: Arc::new(Inner {
                sequencer,
                rollback: Mutex::new(None),
                serial: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Whether the machine has a config (false in maintenance mode).
    pub fn has_config(&self) -> bool {
        self.ctx().machine.config().is_some()
    }

    fn ctx(&self) -> &Context {
        self.inner.sequencer.context()
    }

    /// Applies `req` (see the module docs); one apply at a time.
    pub async fn apply(&self, req: ApplyRequest) -> Result<Applied, ApplyError> {
        let _serial = self.inner.serial.lock().await;
        let ctx = self.ctx().clone();
        let (config, warnings) = decode_and_validate(&req.data, &ctx)?;
        let Some(current) = ctx.machine.config() else {
            return self.apply_in_maintenance(&req, config, warnings);
        };
        let plan = plan(&current, &config);
        let (mode, why) = decide(req.mode, &plan)?;
        if req.dry_run {
            let diff = unified(
                &current.to_yaml().unwrap_or_default(),
                &config.to_yaml().unwrap_or_default(),
                "current",
                "new",
            );
            let diff = if diff.is_empty() {
                "(no changes)\n".to_string()
            } else {
                diff
            };
            let details =
                format!("Dry run: nothing was changed. Mode {mode} would be used: {why}\nConfig diff:\n{diff}");
            return Ok(Applied {
                mode,
                details,
                warnings,
            });
        }
        let confirmed = self.cancel_rollback();
        let mut details = match mode {
            ApplyMode::NoReboot | ApplyMode::Auto => {
                self.persist(STATE_CONFIG_FILE, &req.data)?;
                self.apply_live(config).await?;
                format!("Applied the configuration without a reboot: {why}")
            }
            ApplyMode::Reboot => {
                self.persist(STATE_CONFIG_FILE, &req.data)?;
                let run = self
                    .inner
                    .sequencer
                    .start(SequenceKind::Reboot)
                    .map_err(ApplyError::Reboot)?;
                tokio::spawn(async move {
                    if let Err(e) = run.wait().await {
                        console::log(format_args!("{e}"));
                    }
                });
                format!("Applied the configuration with a reboot: {why}")
            }
            ApplyMode::Staged => {
                self.persist(STAGED_CONFIG_FILE, &req.data)?;
                format!(
                    "Staged the configuration in {}; it takes effect at the next boot (nothing changed now)",
                    state_path(STAGED_CONFIG_FILE).display()
                )
            }
            ApplyMode::Try => {
                let timeout = req.try_timeout.unwrap_or(DEFAULT_TRY_TIMEOUT);
                self.apply_live(config).await?;
                self.arm_rollback(timeout);
                format!(
                    "Applied the configuration in try mode without persisting it: {why}; the persisted configuration comes back in {timeout:?} unless another apply confirms this one"
                )
            }
        };
        if confirmed {
            details.push_str(" (this apply confirms the pending try: no rollback)");
        }
        console::log(format_args!("ApplyConfiguration: {details}"));
        Ok(Applied {
            mode,
            details,
            warnings,
        })
    }

    fn apply_in_maintenance(
        &self,
        req: &ApplyRequest,
        config: MachineConfig,
        warnings: Vec<String>,
    ) -> Result<Applied, ApplyError> {
        if matches!(req.mode, ApplyMode::Staged | ApplyMode::Try) {
            return Err(ApplyError::NotInMaintenance(req.mode));
        }
        if req.dry_run {
            return Ok(Applied {
                mode: req.mode,
                details: "Dry run in maintenance mode: the config is valid; nothing was changed"
                    .into(),
                warnings,
            });
        }
        self.persist(STATE_CONFIG_FILE, &req.data)?;
        let details = if self.ctx().machine.inbox().deliver(config) {
            "Maintenance mode: the configuration is persisted and the boot continues with it"
        } else {
            "Maintenance mode: the configuration is persisted; it is used when the node boots"
        };
        console::log(format_args!("ApplyConfiguration: {details}"));
        Ok(Applied {
            mode: req.mode,
            details: details.into(),
            warnings,
        })
    }

    /// Writes `data` to `STATE/<name>` atomically; a full persist also drops a staged config
    /// (the newer config supersedes it).
    fn persist(&self, name: &str, data: &[u8]) -> Result<(), PersistError> {
        let state = self.ctx().paths.state();
        write_atomically_then(&state.join(name), data, 0o600, &failpoint)?;
        if name == STATE_CONFIG_FILE {
            let staged = state.join(STAGED_CONFIG_FILE);
            if staged.exists() {
                std::fs::remove_file(&staged).map_err(|source| PersistError::Io {
                    op: "remove",
                    path: staged,
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// Makes `config` the machine's config now: resource, hostname, member.
    async fn apply_live(&self, config: MachineConfig) -> Result<(), ApplyError> {
        let ctx = self.ctx().clone();
        resources::publish_config(&ctx.store, &config)?;
        ctx.machine.set_config(Some(config));
        if let Err(e) = tasks::set_hostname(ctx.clone()).await {
            console::log(format_args!("warning: applying the hostname: {e:#}"));
        }
        if let Err(e) = tasks::publish_identity(ctx).await {
            console::log(format_args!("warning: republishing the member: {e:#}"));
        }
        Ok(())
    }

    /// Cancels a pending try rollback; returns whether there was one.
    fn cancel_rollback(&self) -> bool {
        let pending = self
            .inner
            .rollback
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        pending.map(|t| t.cancel()).is_some()
    }

    fn arm_rollback(&self, timeout: Duration) {
        let token = CancellationToken::new();
        *self
            .inner
            .rollback
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
        let this = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = token.cancelled() => {}
                _ = tokio::time::sleep(timeout) => this.rollback(token).await,
            }
        });
    }

    /// Brings the persisted config back (unless a confirming apply got there first).
    async fn rollback(&self, token: CancellationToken) {
        let _serial = self.inner.serial.lock().await;
        if token.is_cancelled() {
            return;
        }
        self.cancel_rollback();
        let file = self.ctx().paths.state().join(STATE_CONFIG_FILE);
        let restored = match MachineConfig::from_file(&file) {
            Ok(config) => self.apply_live(config).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match restored {
            Ok(()) => console::log(format_args!(
                "try mode: not confirmed in time; rolled back to the persisted configuration"
            )),
            Err(e) => console::log(format_args!("try mode: rollback failed: {e}")),
        }
    }
}

/// `STATE/<name>` inside the node.
fn state_path(name: &str) -> PathBuf {
    PathBuf::from(crate::platform::Paths::STATE).join(name)
}

fn decode_and_validate(
    data: &[u8],
    ctx: &Context,
) -> Result<(MachineConfig, Vec<String>), ApplyError> {
    let config =
        MachineConfig::from_bytes(data).map_err(|e| ApplyError::Invalid(vec![e.to_string()]))?;
    let report = validate(&config, ctx.mode);
    if !report.is_ok() {
        return Err(ApplyError::Invalid(
            report.errors.iter().map(|e| e.to_string()).collect(),
        ));
    }
    Ok((
        config,
        report.warnings.iter().map(|w| w.to_string()).collect(),
    ))
}

/// The mode to use for `requested` given `plan`, and why.
fn decide(requested: ApplyMode, plan: &Plan) -> Result<(ApplyMode, String), ApplyError> {
    let live = plan.needs_reboot.is_empty();
    let changed = if plan.changed.is_empty() {
        "no field changed".to_string()
    } else {
        format!("changed: {}", plan.changed.join(", "))
    };
    Ok(match requested {
        ApplyMode::Auto if live => (
            ApplyMode::NoReboot,
            format!("auto chose no-reboot, every change applies live ({changed})"),
        ),
        ApplyMode::Auto => (
            ApplyMode::Reboot,
            format!(
                "auto chose reboot, these fields need one: {}",
                plan.needs_reboot.join(", ")
            ),
        ),
        ApplyMode::NoReboot | ApplyMode::Try if !live => {
            return Err(ApplyError::NeedsReboot {
                mode: requested,
                paths: plan.needs_reboot.clone(),
            })
        }
        ApplyMode::NoReboot | ApplyMode::Try => (requested, changed),
        ApplyMode::Reboot => (ApplyMode::Reboot, format!("reboot requested ({changed})")),
        ApplyMode::Staged => (ApplyMode::Staged, changed),
    })
}

/// The crash-test failpoint (see the module docs).
fn failpoint() {
    if std::env::var(FAILPOINT_ENV).as_deref() != Ok(FAILPOINT_AFTER_TEMP_WRITE) {
        return;
    }
    console::log(format_args!(
        "failpoint {FAILPOINT_AFTER_TEMP_WRITE}: the temporary config file is written; killing machined before the rename"
    ));
    // PID 1 of a pid namespace ignores SIGKILL from inside it; exiting ends the namespace
    // just as abruptly (every process gets SIGKILL, nothing more is written).
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    std::process::exit(137);
}
