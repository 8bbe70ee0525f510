//! `basaltctl version --client [--short]`.

use anyhow::bail;
use clap::Args;

use crate::output;

/// Arguments of `version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print only the client version (server versions need the Basalt API)
    #[arg(long)]
    pub client: bool,

    /// Print just the version, one line
    #[arg(long)]
    pub short: bool,
}

/// Prints the client version; asking for server versions is an error for now.
pub fn run(args: &VersionArgs) -> anyhow::Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    let text = if args.short {
        format!("Client:\n\tbasaltctl v{version}\n")
    } else {
        format!(
            "Client:\n\tTag:      v{version}\n\tOS/Arch:  {}/{}\n",
            std::env::consts::OS,
            std::env::consts::ARCH
        )
    };
    output::print(&text)?;
    if !args.client {
        bail!(
            "cannot show server versions: this basaltctl cannot reach the Basalt API yet; \
             run `basaltctl version --client` to show only the client version"
        );
    }
    Ok(())
}
