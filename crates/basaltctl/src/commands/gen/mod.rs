//! `basaltctl gen ...`: generate the cluster's secrets and its machine configs.

mod config;
mod outputs;
mod secrets;

use clap::Subcommand;

/// Subcommands of `gen`.
#[derive(Debug, Subcommand)]
pub enum GenCommand {
    /// Generate a secrets bundle (CAs, keys and tokens) for a new cluster
    Secrets(secrets::SecretsArgs),
    /// Generate controlplane.yaml, worker.yaml and a basaltconfig for a new cluster
    Config(Box<config::ConfigArgs>),
}

/// Runs one `gen` subcommand.
pub fn run(command: GenCommand) -> anyhow::Result<()> {
    match command {
        GenCommand::Secrets(args) => secrets::run(&args),
        GenCommand::Config(args) => config::run(&args),
    }
}
