//! `basaltctl machineconfig patch FILE -p PATCH... [-o OUT]`: apply patches to a machine
//! config file and check that the result still decodes strictly.

use std::path::PathBuf;

use anyhow::Context as _;
use basalt_config::patch;
use basalt_config::MachineConfig;
use clap::{Args, Subcommand};

/// Subcommands of `machineconfig`.
#[derive(Debug, Subcommand)]
pub enum MachineConfigCommand {
    /// Apply patches (strategic merge or RFC 6902 JSON patch) to a machine config
    Patch(PatchArgs),
}

/// Arguments of `machineconfig patch`.
#[derive(Debug, Args)]
pub struct PatchArgs {
    /// The machine config to patch
    pub file: PathBuf,
    /// Patch: inline YAML/JSON or @file; repeat to apply several in order
    #[arg(short = 'p', long = "patch", value_name = "PATCH", required = true)]
    pub patches: Vec<String>,
    /// Write the result here (mode 0600) instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs one `machineconfig` subcommand.
pub fn run(command: MachineConfigCommand) -> anyhow::Result<()> {
    match command {
        MachineConfigCommand::Patch(args) => run_patch(&args),
    }
}

fn run_patch(args: &PatchArgs) -> anyhow::Result<()> {
    let file = args.file.display();
    let text =
        std::fs::read_to_string(&args.file).with_context(|| format!("cannot read {file}"))?;
    let patches = args
        .patches
        .iter()
        .map(|arg| patch::load_patch_arg(arg))
        .collect::<Result<Vec<_>, _>>()?;
    let patched =
        patch::apply_all(&text, &patches).with_context(|| format!("cannot patch {file}"))?;
    MachineConfig::from_yaml(&patched)
        .with_context(|| format!("the patched {file} is not a valid config"))?;
    match &args.output {
        Some(out) => {
            basalt_client_config::write_private_file(out, patched.as_bytes())
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!("patched {file} -> {}", out.display());
        }
        None => crate::output::print(&patched)?,
    }
    Ok(())
}
