//! `basaltctl completion bash|zsh|fish`: print a shell completion script.

use clap::{Args, CommandFactory as _, ValueEnum};
use clap_complete::Shell as CompleteShell;

use crate::cli::Cli;
use crate::output;

/// Arguments of `completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to generate the script for
    pub shell: Shell,
}

/// Supported shells.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    /// Bash
    Bash,
    /// Zsh
    Zsh,
    /// Fish
    Fish,
}

/// Writes the completion script to stdout.
pub fn run(args: &CompletionArgs) -> anyhow::Result<()> {
    let shell = match args.shell {
        Shell::Bash => CompleteShell::Bash,
        Shell::Zsh => CompleteShell::Zsh,
        Shell::Fish => CompleteShell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "basaltctl", &mut script);
    output::print(&String::from_utf8_lossy(&script))
}
