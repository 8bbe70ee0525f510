//! `basaltctl reboot [--mode default|powercycle|force]` and `basaltctl shutdown [--force]`.
//! Each asks machined to run the sequence and returns once it accepted; the reply's
//! actor id identifies the sequence's events (`basaltctl events`).

use anyhow::bail;
use basalt_api::common;
use basalt_api::machine::{reboot_request, RebootRequest, ShutdownRequest};
use clap::{Args, ValueEnum};

use crate::client::replies::{self, split};
use crate::client::{self, status_error, Client};
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
        let node = client.target_label().await;
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
        let answers = reply.messages.into_iter().map(|m| (m.metadata, m.actor_id));
        report(&what, &node, "reboot", answers.collect())
    })
}

/// Runs `shutdown`.
pub fn shutdown(global: &GlobalArgs, args: &ShutdownArgs) -> anyhow::Result<()> {
    client::block_on(async {
        let mut client = Client::connect(global).await?;
        let node = client.target_label().await;
        let what = format!("cannot shut down {node}");
        let reply = client
            .machine
            .shutdown(ShutdownRequest { force: args.force })
            .await
            .map_err(|s| status_error(&what, &s))?
            .into_inner();
        let answers = reply.messages.into_iter().map(|m| (m.metadata, m.actor_id));
        report(&what, &node, "shutdown", answers.collect())
    })
}

/// Prints what each node accepted, then reports the nodes that failed.
fn report(
    what: &str,
    fallback: &str,
    action: &str,
    answers: Vec<(Option<common::Metadata>, String)>,
) -> anyhow::Result<()> {
    if answers.is_empty() {
        bail!("{what}: the reply held no node's answer");
    }
    let nodes = split(fallback, answers, |(m, _)| m.as_ref());
    let text: String = nodes
        .ok
        .iter()
        .map(|(node, (_, actor_id))| accepted(node, action, actor_id))
        .collect();
    output::print(&text)?;
    replies::finish(&nodes.failed)
}

/// The line confirming that `node` accepted `action`.
fn accepted(node: &str, action: &str, actor_id: &str) -> String {
    if actor_id.is_empty() {
        format!("{node}: {action} requested\n")
    } else {
        format!("{node}: {action} requested (actor id {actor_id})\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_names_node_and_actor() {
        assert_eq!(
            accepted("n1", "reboot", "a1"),
            "n1: reboot requested (actor id a1)\n"
        );
        assert_eq!(accepted("n1", "shutdown", ""), "n1: shutdown requested\n");
    }
}
