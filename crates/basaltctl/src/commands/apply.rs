//! `basaltctl apply-config -f FILE [-m MODE] [--dry-run] [-p PATCH]... [--timeout D]`:
//! sends a machine config (patched here first) to the nodes; each reply says which
//! mode was used and why, or, with `--dry-run`, what would change.

use std::path::PathBuf;

use anyhow::Context as _;
use basalt_api::machine::{
    apply_configuration_request, ApplyConfiguration, ApplyConfigurationRequest,
};
use basalt_config::patch;
use clap::{Args, ValueEnum};

use crate::client::replies::{self, split};
use crate::client::{self, status_error, Client};
use crate::commands::duration;
use crate::global::GlobalArgs;
use crate::output;

/// Arguments of `apply-config`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The machine config to apply
    #[arg(short, long, value_name = "FILE")]
    pub file: PathBuf,

    /// How the config takes effect
    #[arg(short, long, value_enum, default_value_t = ApplyMode::Auto)]
    pub mode: ApplyMode,

    /// Only check the config and show what would change
    #[arg(long)]
    pub dry_run: bool,

    /// Patch applied to the file first: inline YAML/JSON or @file; repeat to apply several in order
    #[arg(short = 'p', long = "config-patch", value_name = "PATCH")]
    pub patches: Vec<String>,

    /// With --mode try: how long until the node rolls the change back (Go duration)
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = duration::parse)]
    pub timeout: std::time::Duration,
}

/// Modes of `apply-config` (talosctl's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApplyMode {
    /// Live when every change allows it, else persist and reboot
    Auto,
    /// Live only; refused when a change needs a reboot
    NoReboot,
    /// Persist, then reboot
    Reboot,
    /// Persist for the next boot; nothing changes now
    Staged,
    /// Live without persisting; rolled back after --timeout unless applied again
    Try,
}

impl ApplyMode {
    fn wire(self) -> apply_configuration_request::Mode {
        use apply_configuration_request::Mode;
        match self {
            ApplyMode::Auto => Mode::Auto,
            ApplyMode::NoReboot => Mode::NoReboot,
            ApplyMode::Reboot => Mode::Reboot,
            ApplyMode::Staged => Mode::Staged,
            ApplyMode::Try => Mode::Try,
        }
    }
}

/// `no-reboot` for `NO_REBOOT`.
fn mode_name(mode: i32) -> String {
    apply_configuration_request::Mode::try_from(mode)
        .map(|m| m.as_str_name().to_ascii_lowercase().replace('_', "-"))
        .unwrap_or_else(|_| format!("unknown mode {mode}"))
}

/// Runs `apply-config`.
pub fn run(global: &GlobalArgs, args: &ApplyArgs) -> anyhow::Result<()> {
    let file = args.file.display();
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read the machine config {file}"))?;
    let data = if args.patches.is_empty() {
        text
    } else {
        let patches = args
            .patches
            .iter()
            .map(|arg| patch::load_patch_arg(arg))
            .collect::<Result<Vec<_>, _>>()?;
        patch::apply_all(&text, &patches).with_context(|| format!("cannot patch {file}"))?
    };
    let timeout = prost_types::Duration {
        seconds: i64::try_from(args.timeout.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(args.timeout.subsec_nanos()).unwrap_or(0),
    };
    let request = ApplyConfigurationRequest {
        data: data.into_bytes(),
        mode: args.mode.wire().into(),
        dry_run: args.dry_run,
        try_mode_timeout: (args.mode == ApplyMode::Try).then_some(timeout),
    };
    client::block_on(async {
        let mut client = Client::connect(global).await?;
        let node = client.target_label().await;
        let what = format!("cannot apply {file} to {node}");
        let reply = client
            .machine
            .apply_configuration(request)
            .await
            .map_err(|s| status_error(&what, &s))?
            .into_inner();
        let fallback = client.node_name(None).await;
        let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
        let text: String = nodes
            .ok
            .iter()
            .map(|(node, answer)| report(node, answer, args.dry_run))
            .collect();
        output::print(&text)?;
        replies::finish(&nodes.failed)
    })
}

/// What one node did: warnings, the mode used and its reason (or the dry-run diff).
fn report(node: &str, answer: &ApplyConfiguration, dry_run: bool) -> String {
    let mut text = String::new();
    for warning in &answer.warnings {
        text.push_str(&format!("{node}: warning: {warning}\n"));
    }
    let mode = mode_name(answer.mode);
    let details = answer.mode_details.trim_end();
    if dry_run {
        text.push_str(&format!("{node}: dry run, mode {mode}; would change:\n"));
    } else {
        text.push_str(&format!("{node}: applied, mode {mode}:\n"));
    }
    for line in details.lines() {
        text.push_str(&format!("  {line}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_node_mode_and_reason() {
        let answer = ApplyConfiguration {
            metadata: None,
            warnings: vec!["machine.install is ignored in container mode".into()],
            mode: apply_configuration_request::Mode::NoReboot.into(),
            mode_details: "applied live: only machine.env changed\n".into(),
        };
        assert_eq!(
            report("n1", &answer, false),
            "n1: warning: machine.install is ignored in container mode\n\
             n1: applied, mode no-reboot:\n  applied live: only machine.env changed\n"
        );
        assert!(
            report("n1", &answer, true).contains("n1: dry run, mode no-reboot; would change:\n")
        );
        assert_eq!(mode_name(99), "unknown mode 99");
    }
}
