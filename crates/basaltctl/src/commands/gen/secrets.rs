//! `basaltctl gen secrets`: a new secrets bundle in Talos's `secrets.yaml` layout.

use std::path::PathBuf;

use anyhow::Context as _;
use basalt_pki::SecretsBundle;
use clap::Args;

use super::outputs::write_output;

/// Arguments of `gen secrets`.
#[derive(Debug, Args)]
pub struct SecretsArgs {
    /// Where to write the bundle
    #[arg(short = 'o', long = "output-file", default_value = "secrets.yaml")]
    pub output: PathBuf,
    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
}

/// Generates and writes the bundle (mode 0600).
pub fn run(args: &SecretsArgs) -> anyhow::Result<()> {
    let bundle = SecretsBundle::generate().context("cannot generate the secrets bundle")?;
    let text = bundle
        .to_yaml()
        .context("cannot encode the secrets bundle")?;
    write_output(&args.output, text.as_bytes(), args.force)?;
    eprintln!("wrote {}", args.output.display());
    Ok(())
}
