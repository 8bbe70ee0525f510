//! `basaltctl reset [--graceful=true] [--reboot] [--system-labels-to-wipe STATE,EPHEMERAL]
//! [--wait=true] [--timeout 10m]`: asks each node to reset (a control-plane node leaves etcd
//! first when graceful), then shows a spinner until every node is gone (power off) or answers
//! again (reboot: in maintenance mode once STATE was wiped).

use std::time::{Duration, Instant};

use anyhow::bail;
use basalt_api::machine::{Event, EventsRequest, ResetPartitionSpec, ResetRequest};
use clap::{ArgAction, Args};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::net::TcpStream;

use crate::client::endpoint::Endpoint;
use crate::client::replies::{self, split};
use crate::client::{self, status_error, Client, Plan};
use crate::commands::duration;
use crate::global::GlobalArgs;
use crate::output;

/// Arguments of `reset`.
#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Leave etcd first (control-plane nodes), so the cluster's membership shrinks
    #[arg(long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", value_name = "BOOL")]
    pub graceful: bool,

    /// Reboot after the reset (into maintenance mode once STATE is wiped) instead of powering off
    #[arg(long)]
    pub reboot: bool,

    /// System partitions to wipe (default: all, i.e. STATE and EPHEMERAL)
    #[arg(long, value_delimiter = ',', value_name = "LABELS")]
    pub system_labels_to_wipe: Vec<String>,

    /// Wait until the nodes are gone (or, with --reboot, answer again)
    #[arg(long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", value_name = "BOOL")]
    pub wait: bool,

    /// How long to wait for each node
    #[arg(long, default_value = "10m", value_parser = duration::parse)]
    pub timeout: Duration,
}

/// The request for `args`.
pub fn request(args: &ResetArgs) -> ResetRequest {
    ResetRequest {
        graceful: args.graceful,
        reboot: args.reboot,
        system_partitions_to_wipe: args
            .system_labels_to_wipe
            .iter()
            .filter(|l| !l.is_empty())
            .map(|label| ResetPartitionSpec {
                label: label.clone(),
                wipe: true,
            })
            .collect(),
        user_disks_to_wipe: Vec::new(),
        mode: 0,
    }
}

/// Runs `reset`.
pub fn run(global: &GlobalArgs, args: &ResetArgs) -> anyhow::Result<()> {
    client::block_on(async {
        let mut client = Client::connect(global).await?;
        let label = client.target_label().await;
        let what = format!("cannot reset {label}");
        let waiting = args.wait && global.socket.is_none();
        // Each node's event stream, opened before the reset: it ends when the node's apid
        // stops, however short the node is down (a container node is back in milliseconds).
        let mut watches = Vec::new();
        if waiting {
            for target in wait_targets(global)? {
                let mut node_client = if client.nodes().is_empty() {
                    client.clone()
                } else {
                    client.for_node(&target.name)?
                };
                let stream = node_client
                    .machine
                    .events(EventsRequest::default())
                    .await
                    .map_err(|s| status_error(&format!("cannot watch {}", target.name), &s))?
                    .into_inner();
                watches.push((target, stream));
            }
        }
        let reply = client
            .machine
            .reset(request(args))
            .await
            .map_err(|s| status_error(&what, &s))?
            .into_inner();
        if reply.messages.is_empty() {
            bail!("{what}: the reply held no node's answer");
        }
        let nodes = split(&label, reply.messages, |m| m.metadata.as_ref());
        let text: String = nodes
            .ok
            .iter()
            .map(|(node, _)| format!("{node}: reset requested\n"))
            .collect();
        output::print(&text)?;
        if nodes.failed.is_empty() {
            for (target, stream) in watches {
                wait_for(&target, stream, args.reboot, args.timeout).await?;
            }
        }
        replies::finish(&nodes.failed)
    })
}

/// A node to wait for: its name as given and where its apid listens.
struct WaitTarget {
    name: String,
    endpoint: Endpoint,
}

/// The nodes to wait for: the `-n` nodes, else the endpoint.
fn wait_targets(global: &GlobalArgs) -> anyhow::Result<Vec<WaitTarget>> {
    let plan = Plan::from_global(global)?;
    let names: Vec<String> = if plan.nodes.is_empty() {
        plan.endpoints
            .first()
            .map(|e| vec![format!("{}:{}", bracket(&e.host), e.port)])
            .unwrap_or_default()
    } else {
        plan.nodes.clone()
    };
    names
        .iter()
        .map(|n| {
            Ok(WaitTarget {
                name: n.clone(),
                endpoint: Endpoint::parse(n).map_err(anyhow::Error::msg)?,
            })
        })
        .collect()
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// Whether the node's apid port accepts a TCP connection within a second.
async fn answers(target: &Endpoint) -> bool {
    let addr = format!("{}:{}", bracket(&target.host), target.port);
    matches!(
        tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

/// Waits until the event stream of `target` ends (its apid stopped), then (with `reboot`)
/// until its apid port accepts connections again.
async fn wait_for(
    target: &WaitTarget,
    mut events: tonic::Streaming<Event>,
    reboot: bool,
    timeout: Duration,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let node = &target.name;
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("[{elapsed:>5}] {spinner} {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_message(format!(
        "{node}: resetting (waiting for its API to go down)"
    ));
    let outcome = async {
        let down = tokio::time::timeout(timeout, async {
            while let Ok(Some(_)) = events.message().await {}
        })
        .await;
        if down.is_err() {
            bail!(
                "{node} still answers after {}s: the reset did not stop it; see `basaltctl -n \
                 {node} events` and its console",
                timeout.as_secs()
            );
        }
        if !reboot {
            return Ok(format!(
                "{node}: reset, powered off ({:.1}s)",
                start.elapsed().as_secs_f64()
            ));
        }
        bar.set_message(format!("{node}: rebooting (waiting for its API to answer)"));
        while !answers(&target.endpoint).await {
            if start.elapsed() > timeout {
                bail!(
                    "{node} went down after the reset but did not answer on port {} within \
                     {}s; check its console",
                    target.endpoint.port,
                    timeout.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(format!(
            "{node}: reset, answers again after {:.1}s (maintenance mode if STATE was wiped: \
             basaltctl apply-config --insecure -n {node} --file CONFIG)",
            start.elapsed().as_secs_f64()
        ))
    }
    .await;
    bar.finish_and_clear();
    eprintln!("{}", outcome?);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        args: ResetArgs,
    }

    #[test]
    fn flags_become_the_talos_request() {
        let t = T::parse_from(["t"]);
        let r = request(&t.args);
        assert!(r.graceful && !r.reboot && r.system_partitions_to_wipe.is_empty());
        assert!(t.args.wait);
        let t = T::parse_from([
            "t",
            "--graceful=false",
            "--reboot",
            "--system-labels-to-wipe",
            "STATE,EPHEMERAL",
        ]);
        let r = request(&t.args);
        assert!(!r.graceful && r.reboot);
        let labels: Vec<&str> = r
            .system_partitions_to_wipe
            .iter()
            .map(|p| p.label.as_str())
            .collect();
        assert_eq!(labels, ["STATE", "EPHEMERAL"]);
        assert!(r.system_partitions_to_wipe.iter().all(|p| p.wipe));
        let t = T::parse_from(["t", "--graceful", "--system-labels-to-wipe", "STATE"]);
        assert!(t.args.graceful);
        assert_eq!(request(&t.args).system_partitions_to_wipe.len(), 1);
    }
}
