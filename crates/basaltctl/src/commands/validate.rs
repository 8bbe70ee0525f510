//! `basaltctl validate -c FILE -m MODE [--strict]`: strict decoding plus semantic checks,
//! every finding reported at once.

use std::path::PathBuf;

use anyhow::bail;
use basalt_config::validate::{validate, Mode};
use basalt_config::MachineConfig;
use clap::Args;

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The machine config file to check
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: PathBuf,
    /// Where the config will run: metal or container
    #[arg(short = 'm', long = "mode", value_name = "MODE")]
    pub mode: Mode,
    /// Treat warnings as errors
    #[arg(long)]
    pub strict: bool,
}

/// Decodes and validates; prints every finding; fails when any error (or, with
/// `--strict`, any warning) is found.
pub fn run(args: &ValidateArgs) -> anyhow::Result<()> {
    let file = args.config.display();
    let config = MachineConfig::from_file(&args.config)?;
    let report = validate(&config, args.mode);
    for finding in &report.errors {
        eprintln!("{file}: error: {finding}");
    }
    for finding in &report.warnings {
        eprintln!("{file}: warning: {finding}");
    }
    let errors = report.errors.len()
        + if args.strict {
            report.warnings.len()
        } else {
            0
        };
    if errors > 0 {
        let what = if args.strict && !report.warnings.is_empty() {
            " (warnings count as errors with --strict)"
        } else {
            ""
        };
        bail!(
            "{file} is not valid for {} mode: {errors} problem(s) found{what}",
            args.mode
        );
    }
    println!("{file} is valid for {} mode", args.mode);
    Ok(())
}
