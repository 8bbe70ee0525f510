//! `config new [PATH] --roles R --crt-ttl D`: asks a node (admin only) for a new client
//! certificate (GenerateClientConfiguration) and writes the returned client config to
//! PATH, merging it into the file when it exists.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use basalt_api::machine::GenerateClientConfigurationRequest;
use basalt_client_config::{ClientConfig, ConfigFile};
use clap::Args;

use super::cert;
use crate::client::replies::{self, split};
use crate::client::{self, status_error, Client};
use crate::commands::duration;
use crate::global::GlobalArgs;

/// Arguments of `config new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Where to write the new client config (merged when the file exists)
    #[arg(default_value = "basaltconfig", value_name = "PATH")]
    pub path: PathBuf,

    /// Roles of the new certificate (comma-separated or repeated)
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "os:admin",
        value_name = "ROLE"
    )]
    pub roles: Vec<String>,

    /// Lifetime of the new certificate (Go duration)
    #[arg(long, default_value = "87600h", value_name = "DURATION", value_parser = duration::parse)]
    pub crt_ttl: std::time::Duration,
}

/// Runs `config new`.
pub fn run(global: &GlobalArgs, args: &NewArgs) -> anyhow::Result<()> {
    let request = GenerateClientConfigurationRequest {
        roles: args.roles.clone(),
        crt_ttl: Some(prost_types::Duration {
            seconds: i64::try_from(args.crt_ttl.as_secs()).unwrap_or(i64::MAX),
            nanos: 0,
        }),
    };
    let generated = client::block_on(async {
        let mut client = Client::connect(global).await?;
        let what = "cannot generate a client configuration";
        let reply = client
            .machine
            .generate_client_configuration(request)
            .await
            .map_err(|s| status_error(what, &s))?
            .into_inner();
        let fallback = client.node_name(None).await;
        let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
        if let Some((_, first)) = nodes.ok.into_iter().next() {
            replies::finish(&nodes.failed)?;
            return Ok(first.talosconfig);
        }
        replies::finish(&nodes.failed)?;
        bail!("{what}: the reply held no node's answer")
    })?;
    let text = String::from_utf8(generated)
        .context("the node returned a client config that is not text")?;
    let incoming = ClientConfig::from_yaml(&text)
        .context("the node returned a client config that cannot be read")?;
    let summary = incoming
        .current_name()
        .and_then(|name| incoming.context(name).ok())
        .and_then(|c| c.crt.as_ref())
        .and_then(|crt| cert::summarize(crt.as_bytes()).ok());
    let mut file = ConfigFile::load(&args.path)?;
    let renames = file.config_mut().merge(incoming);
    file.save()?;
    for rename in renames {
        eprintln!("renamed context {rename} while merging (the name was taken)");
    }
    let mut line = format!("wrote a client config to {}", args.path.display());
    if let Some(summary) = summary {
        line.push_str(&format!(
            " (roles {}, valid until {})",
            summary.roles.join(", "),
            cert::date(summary.not_after)
        ));
    }
    crate::output::print(&(line + "\n"))
}
