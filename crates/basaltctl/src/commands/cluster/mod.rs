//! `basaltctl cluster create|destroy|show`: local clusters (container provisioner, or QEMU
//! VMs with `--provisioner qemu`). See docs/cluster.md.

mod configs;
mod create;
mod destroy;
mod progress;
mod qemu;
mod show;
mod wait;

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::global::GlobalArgs;

pub use create::CreateArgs;
pub use destroy::DestroyArgs;
pub use show::ShowArgs;

/// The default cluster name.
pub const DEFAULT_NAME: &str = "basalt-demo";

/// `cluster` subcommands.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Create a local cluster, bootstrap etcd and merge a client context
    Create(CreateArgs),
    /// Stop every node and remove everything the cluster made
    Destroy(DestroyArgs),
    /// List a cluster's nodes
    Show(ShowArgs),
}

/// Where clusters live: `--state DIR`, else `$BASALT_CLUSTERS_DIR`, else `~/.basalt/clusters`.
#[derive(Debug, Clone, Args)]
pub struct StateDir {
    /// Directory holding the clusters [default: $BASALT_CLUSTERS_DIR, else ~/.basalt/clusters]
    #[arg(long = "state", value_name = "DIR", env = "BASALT_CLUSTERS_DIR")]
    pub state: Option<PathBuf>,
}

impl StateDir {
    /// The resolved directory.
    pub fn path(&self) -> PathBuf {
        self.state.clone().unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
            PathBuf::from(home).join(".basalt").join("clusters")
        })
    }
}

/// Runs a `cluster` subcommand.
pub fn run(global: &GlobalArgs, command: ClusterCommand) -> anyhow::Result<()> {
    match command {
        ClusterCommand::Create(args) => create::run(global, &args),
        ClusterCommand::Destroy(args) => destroy::run(global, &args),
        ClusterCommand::Show(args) => show::run(&args),
    }
}
