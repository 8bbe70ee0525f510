//! `basaltctl reboot [--mode default|powercycle|force]` and `basaltctl shutdown [--force]`.
//! Each asks machined to run the sequence and returns once it accepted; the reply's
//! actor id identifies the sequence's events (`basaltctl events`).

use anyhow::bail;
use basalt_api::common;
use basalt_api::machine::{reboot_request, RebootRequest, ShutdownRequest};
use clap::{Args, ValueEnum};

use crate::client::{self, check_metadata, status_error, Client};
use crate::global::GlobalArgs;
use crate::output;

/// Arguments of `reboot`.
#[derive(Debug, Args)]
pub struct RebootArgs {
    /// How to reboot
    #[arg(short, long, value_enum, default_value_t = RebootMode::Default)]
    pub mode: RebootMode,
}

/// Reboot modes (talosctl's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RebootMode {
    /// Through the graceful reboot sequence
    Default,
    /// Power-cycle instead of a warm reboot
    Powercycle,
    /// Skip the graceful steps that may block
    Force,
}

/// Arguments of `shutdown`.
#[derive(Debug, Args)]
pub struct ShutdownArgs {
    /// Shut down without first cordoning and draining the node
    #[arg(long)]
    pub force: bool,
}

/// Runs `reboot`.
pub fn reboot(global: &GlobalArgs, args: &RebootArgs) -> anyhow::Result<()> {
    client::block_on(async {
        let mut client = Client::connect(global).await?;
        let node = client.node_name(None).await;
        let mode = match args.mode {
            RebootMode::Default => reboot_request::Mode::Default,
            RebootMode::Powercycle => reboot_request::Mode::Powercycle,
            RebootMode::Force => reboot_request::Mode::Force,
        };
        let what = format!("cannot reboot {node}");
        let reply = client
            .machine
            .reboot(RebootRequest { mode: mode.into() })
            .await
            .map_err(|s| status_error(&what, &s))?
            .into_inner();
        let first = reply.messages.into_iter().next();
        let answer = first.map(|m| (m.metadata, m.actor_id));
        output::print(&accepted(&what, &node, "reboot", answer)?)
    })
}

/// Runs `shutdown`.
pub fn shutdown(global: &GlobalArgs, args: &ShutdownArgs) -> anyhow::Result<()> {
    client::block_on(async {
        let mut client = Client::connect(global).await?;
        let node = client.node_name(None).await;
        let what = format!("cannot shut down {node}");
        let reply = client
            .machine
            .shutdown(ShutdownRequest { force: args.force })
            .await
            .map_err(|s| status_error(&what, &s))?
            .into_inner();
        let first = reply.messages.into_iter().next();
        let answer = first.map(|m| (m.metadata, m.actor_id));
        output::print(&accepted(&what, &node, "shutdown", answer)?)
    })
}

/// The line confirming that `node` accepted `action`, or the node's error.
fn accepted(
    what: &str,
    node: &str,
    action: &str,
    answer: Option<(Option<common::Metadata>, String)>,
) -> anyhow::Result<String> {
    let Some((metadata, actor_id)) = answer else {
        bail!("{what}: the reply held no node's answer");
    };
    check_metadata(what, metadata.as_ref())?;
    Ok(if actor_id.is_empty() {
        format!("{node}: {action} requested\n")
    } else {
        format!("{node}: {action} requested (actor id {actor_id})\n")
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn accepted_names_node_and_actor_or_fails_with_the_node_error() {
        let ok = accepted("x", "n1", "reboot", Some((None, "a1".into()))).unwrap();
        assert_eq!(ok, "n1: reboot requested (actor id a1)\n");
        let ok = accepted("x", "n1", "shutdown", Some((None, String::new()))).unwrap();
        assert_eq!(ok, "n1: shutdown requested\n");
        let failed = common::Metadata {
            error: "locked".into(),
            ..Default::default()
        };
        let err = accepted(
            "cannot reboot n1",
            "n1",
            "reboot",
            Some((Some(failed), String::new())),
        );
        assert_eq!(err.unwrap_err().to_string(), "cannot reboot n1: locked");
        assert!(accepted("x", "n1", "reboot", None).is_err());
    }
}
