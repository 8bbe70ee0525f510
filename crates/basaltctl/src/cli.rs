//! The command-line grammar: global flags plus one subcommand per command group.
//! To add a command group: add a module under `commands/`, a variant here, and one
//! dispatch line in `main.rs`.

use clap::{Parser, Subcommand};

use crate::commands;
use crate::global::GlobalArgs;

/// A CLI for out-of-band management of Kubernetes nodes running Basalt.
#[derive(Debug, Parser)]
#[command(name = "basaltctl", version, max_term_width = 100)]
pub struct Cli {
    /// Flags shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage the client configuration file (basaltconfig)
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// Generate secrets and machine configs
    #[command(subcommand)]
    Gen(commands::gen::GenCommand),
    /// Validate a machine config file
    Validate(commands::validate::ValidateArgs),
    /// Work with machine config files (patch)
    #[command(subcommand)]
    Machineconfig(commands::machineconfig::MachineConfigCommand),
    /// Output a shell completion script (bash, zsh or fish)
    Completion(commands::completion::CompletionArgs),
    /// Print the client and server versions
    Version(commands::version::VersionArgs),
    /// Start a new etcd cluster on one control-plane node (or recover one from a snapshot)
    Bootstrap(commands::bootstrap::BootstrapArgs),
    /// Manage the etcd cluster (members, status, leave, snapshots, alarms)
    #[command(subcommand)]
    Etcd(commands::etcd::EtcdCommand),
    /// List services, or show/start/stop/restart one
    #[command(visible_alias = "services")]
    Service(commands::services::ServiceArgs),
    /// Show a service's log
    Logs(commands::logs::LogsArgs),
    /// Stream machine events
    Events(commands::events::EventsArgs),
    /// Get resources (or watch them with -w)
    Get(commands::get::GetArgs),
    /// Apply a machine config to the nodes
    ApplyConfig(commands::apply::ApplyArgs),
    /// Reboot the node
    Reboot(commands::power::RebootArgs),
    /// Shut the node down
    Shutdown(commands::power::ShutdownArgs),
    /// Reset the node: leave etcd, wipe STATE/EPHEMERAL, then reboot or power off
    Reset(commands::reset::ResetArgs),
    /// Check the cluster's health (etcd, members, apid, boot) on the client or a node
    Health(commands::health::HealthArgs),
    /// Build the signed boot image
    #[command(subcommand)]
    Image(commands::image::ImageCommand),
    /// Create, show and destroy local clusters
    #[command(subcommand)]
    Cluster(commands::cluster::ClusterCommand),
}
