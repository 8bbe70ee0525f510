//! `basaltctl version [--client] [--short]`: the client version, then a server
//! section per node.

use anyhow::Context as _;
use basalt_api::machine::Version;
use clap::Args;

use crate::client::replies::{self, split};
use crate::client::{self, status_error, Client};
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
    client::block_on(async {
        let mut client = Client::connect(global).await.context(
            "cannot show the server version (`basaltctl version --client` shows only the client's)",
        )?;
        let what = "cannot get the server version";
        let reply = client
            .machine
            .version(())
            .await
            .map_err(|s| status_error(what, &s))?
            .into_inner();
        let fallback = client.node_name(None).await;
        let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
        let mut text = String::from("Server:\n");
        for (node, server) in &nodes.ok {
            text.push_str(&server_text(node, server, args.short));
        }
        if !nodes.ok.is_empty() {
            output::print(&text)?;
        }
        replies::finish(&nodes.failed)
    })
}

/// The lines of one node in the `Server:` section.
pub fn server_text(node: &str, server: &Version, short: bool) -> String {
    let info = server.version.clone().unwrap_or_default();
    if short {
        return format!("\t{node}: basalt {}\n", info.tag);
    }
    let mut text = format!(
        "\tNODE:     {node}\n\tTag:      {}\n\tSHA:      {}\n\tBuilt:    {}\n\
         \tRust:     {}\n\tOS/Arch:  {}/{}\n",
        info.tag, info.sha, info.built, info.go_version, info.os, info.arch
    );
    if !info.image.is_empty() {
        text.push_str(&format!("\tImage:    {}\n", info.image));
    }
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
                image: String::new(),
            }),
            platform: Some(PlatformInfo {
                name: "container".into(),
                mode: "container".into(),
            }),
            features: None,
        };
        let text = server_text("n1", &server, false);
        assert!(
            text.starts_with("\tNODE:     n1\n\tTag:      v0.1.0\n"),
            "{text}"
        );
        assert!(
            text.contains("\tOS/Arch:  linux/amd64\n\tPlatform: container\n"),
            "{text}"
        );
        assert_eq!(server_text("n1", &server, true), "\tn1: basalt v0.1.0\n");
        assert!(!text.contains("Image:"), "{text}");
        let mut booted = server.clone();
        if let Some(v) = booted.version.as_mut() {
            v.image = "0.1.0+0123abcdef01".into();
        }
        let text = server_text("n1", &booted, false);
        assert!(
            text.contains("\tImage:    0.1.0+0123abcdef01\n\tPlatform: container\n"),
            "{text}"
        );
    }
}
