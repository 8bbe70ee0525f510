//! `basaltctl version [--client] [--short]`: the client version, then the server's
//! (asked over `--socket`).

use anyhow::{bail, Context as _};
use basalt_api::machine::Version;
use clap::Args;

use crate::client::{self, check_metadata, status_error, Client, NO_SOCKET};
use crate::global::GlobalArgs;
use crate::output;

/// Arguments of `version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print only the client version
    #[arg(long)]
    pub client: bool,

    /// Print just the version, one line
    #[arg(long)]
    pub short: bool,
}

/// Prints the client version, then (unless `--client`) the server's.
pub fn run(global: &GlobalArgs, args: &VersionArgs) -> anyhow::Result<()> {
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
    if args.client {
        return Ok(());
    }
    if global.socket.is_none() {
        bail!(
            "cannot reach the Basalt API to show the server version: {NO_SOCKET}; pass \
             --socket PATH, or run `basaltctl version --client` to show only the client version"
        );
    }
    client::block_on(async {
        let mut client = Client::connect(global).await?;
        let what = "cannot get the server version";
        let reply = client
            .machine
            .version(())
            .await
            .map_err(|s| status_error(what, &s))?
            .into_inner();
        let server = reply
            .messages
            .into_iter()
            .next()
            .with_context(|| format!("{what}: the reply held no node's answer"))?;
        check_metadata(what, server.metadata.as_ref())?;
        let node = client.node_name(server.metadata.as_ref()).await;
        output::print(&server_text(&node, &server, args.short))
    })
}

/// The `Server:` block for one node.
pub fn server_text(node: &str, server: &Version, short: bool) -> String {
    let info = server.version.clone().unwrap_or_default();
    if short {
        return format!("Server:\n\t{node}: basalt {}\n", info.tag);
    }
    let mut text = format!(
        "Server:\n\tNODE:     {node}\n\tTag:      {}\n\tSHA:      {}\n\tBuilt:    {}\n\
         \tRust:     {}\n\tOS/Arch:  {}/{}\n",
        info.tag, info.sha, info.built, info.go_version, info.os, info.arch
    );
    if let Some(platform) = &server.platform {
        text.push_str(&format!("\tPlatform: {}\n", platform.name));
    }
    if server.features.as_ref().is_some_and(|f| f.rbac) {
        text.push_str("\tEnabled:  RBAC\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use basalt_api::machine::{PlatformInfo, VersionInfo};

    use super::*;

    #[test]
    fn server_block_lists_build_and_platform() {
        let server = Version {
            metadata: None,
            version: Some(VersionInfo {
                tag: "v0.1.0".into(),
                sha: "abc".into(),
                built: "".into(),
                go_version: "rustc 1.85".into(),
                os: "linux".into(),
                arch: "amd64".into(),
            }),
            platform: Some(PlatformInfo {
                name: "container".into(),
                mode: "container".into(),
            }),
            features: None,
        };
        let text = server_text("n1", &server, false);
        assert!(
            text.starts_with("Server:\n\tNODE:     n1\n\tTag:      v0.1.0\n"),
            "{text}"
        );
        assert!(
            text.contains("\tOS/Arch:  linux/amd64\n\tPlatform: container\n"),
            "{text}"
        );
        assert_eq!(
            server_text("n1", &server, true),
            "Server:\n\tn1: basalt v0.1.0\n"
        );
    }
}
