//! `basaltctl config ...`: manage the client config file (basaltconfig).

mod cert;
mod contexts;
mod edit;
mod import;
mod info;
mod new;

use std::path::PathBuf;

use clap::Subcommand;

use crate::global::GlobalArgs;

/// Subcommands of `config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// List defined contexts
    #[command(visible_alias = "get-contexts")]
    Contexts(contexts::ContextsArgs),
    /// Set the current context
    #[command(visible_alias = "use-context")]
    Context {
        /// Name of the context to make current
        name: String,
    },
    /// Set the endpoint(s) of the current context (or of --context)
    #[command(visible_alias = "endpoints")]
    Endpoint {
        /// Addresses the client connects to (host or host:port)
        #[arg(required = true, value_name = "ENDPOINT")]
        endpoints: Vec<String>,
    },
    /// Set the node(s) of the current context (or of --context); none clears them
    #[command(visible_alias = "nodes")]
    Node {
        /// Nodes that commands target by default
        #[arg(value_name = "NODE")]
        nodes: Vec<String>,
    },
    /// Show the current context, with --context/-e/-n overrides applied
    Info(info::InfoArgs),
    /// Merge the contexts of another client config file (clashing names get a suffix)
    Merge {
        /// The client config file to merge in
        file: PathBuf,
    },
    /// Add a context from certificate and key files
    Add(import::AddArgs),
    /// Ask a node for a new client certificate and write it as a client config (admin only)
    New(new::NewArgs),
    /// Remove a context (not the current one)
    Remove {
        /// Name of the context to remove
        name: String,
    },
}

/// Runs one `config` subcommand.
pub fn run(global: &GlobalArgs, command: ConfigCommand) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Contexts(args) => contexts::run(global, &args),
        ConfigCommand::Context { name } => edit::use_context(global, &name),
        ConfigCommand::Endpoint { endpoints } => edit::endpoints(global, endpoints),
        ConfigCommand::Node { nodes } => edit::nodes(global, nodes),
        ConfigCommand::Info(args) => info::run(global, &args),
        ConfigCommand::Merge { file } => import::merge(global, &file),
        ConfigCommand::Add(args) => import::add(global, &args),
        ConfigCommand::New(args) => new::run(global, &args),
        ConfigCommand::Remove { name } => edit::remove(global, &name),
    }
}
