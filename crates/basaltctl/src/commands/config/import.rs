//! `config add` (credentials from files) and `config merge` (contexts from another file).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use basalt_client_config::{AddMode, ConfigFile, PemBlob};
use clap::Args;

use crate::global::GlobalArgs;

/// Arguments of `config add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Name of the new context
    pub name: String,
    /// PEM file with the cluster's OS CA certificate
    #[arg(long, value_name = "FILE")]
    pub ca: PathBuf,
    /// PEM file with the client certificate
    #[arg(long, value_name = "FILE")]
    pub crt: PathBuf,
    /// PEM file with the client private key
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Replace the credentials of an existing context (its endpoints and nodes are kept)
    #[arg(long)]
    pub replace: bool,
}

/// Adds (or replaces) a context from PEM files.
pub fn add(global: &GlobalArgs, args: &AddArgs) -> anyhow::Result<()> {
    let ca = read_pem(&args.ca, "--ca")?;
    let crt = read_pem(&args.crt, "--crt")?;
    let key = read_pem(&args.key, "--key")?;
    let mode = if args.replace {
        AddMode::Replace
    } else {
        AddMode::New
    };
    let mut file = global.load_config()?;
    let path = file.path().display().to_string();
    file.config_mut()
        .add_context(&args.name, ca, crt, key, mode)
        .with_context(|| format!("cannot add context to {path}"))?;
    Ok(file.save()?)
}

fn read_pem(path: &Path, flag: &str) -> anyhow::Result<PemBlob> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {flag} {}", path.display()))?;
    PemBlob::from_pem(bytes).with_context(|| format!("{flag} {} is not a PEM file", path.display()))
}

/// Merges the contexts of `from` into the client config; reports renames on stderr.
pub fn merge(global: &GlobalArgs, from: &Path) -> anyhow::Result<()> {
    let incoming = ConfigFile::load_existing(from)?.into_config();
    let mut file = global.load_config()?;
    let renames = file.config_mut().merge(incoming);
    file.save()?;
    for rename in renames {
        eprintln!("renamed context {rename} while merging (the name was taken)");
    }
    Ok(())
}
