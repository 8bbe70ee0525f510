//! `basaltctl health [--server=false] [--control-plane-nodes A,B] [--worker-nodes C]
//! [--wait-timeout 20m]`: the cluster health checks of `basalt-health`, run here (default)
//! or by the endpoint node (`--server`, `cluster.ClusterService/HealthCheck`). Without node
//! flags the nodes are the context's (or `-n`), sorted by the machine type each publishes.

mod client_side;
mod server_side;

use std::time::Duration;

use anyhow::Context as _;
use basalt_health::{classify, ClusterNodes, NodeApi};
use clap::{ArgAction, Args};
use tonic::transport::Channel;

use crate::client::{self, Plan};
use crate::commands::duration;
use crate::global::GlobalArgs;

/// Arguments of `health`.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Run the checks on the endpoint node (ClusterService.HealthCheck) instead of here
    #[arg(long, action = ArgAction::Set, default_value_t = false, num_args = 0..=1,
          default_missing_value = "true", value_name = "BOOL")]
    pub server: bool,

    /// Addresses of the control-plane nodes (default: from the context's nodes)
    #[arg(long, value_delimiter = ',', value_name = "NODES")]
    pub control_plane_nodes: Vec<String>,

    /// Addresses of the worker nodes (default: from the context's nodes)
    #[arg(long, value_delimiter = ',', value_name = "NODES")]
    pub worker_nodes: Vec<String>,

    /// How long the checks are retried before the cluster counts as unhealthy
    #[arg(long, default_value = "20m", value_parser = duration::parse)]
    pub wait_timeout: Duration,
}

/// Runs `health`.
pub fn run(global: &GlobalArgs, args: &HealthArgs) -> anyhow::Result<()> {
    if global.socket.is_some() {
        anyhow::bail!("health checks the whole cluster through apid; drop --socket and use -e/-n or a context");
    }
    client::block_on(async {
        let plan = Plan::from_global(global).context("cannot reach the Basalt API")?;
        let (channel, endpoint) = plan.open().await?;
        let nodes = cluster_nodes(args, &plan, &endpoint.host, channel.clone()).await?;
        if args.server {
            server_side::run(channel, &nodes, args.wait_timeout).await
        } else {
            client_side::run(channel, &nodes, args.wait_timeout).await
        }
    })
}

/// The nodes to check: the flags, else the context's nodes (or `-n`, else the endpoint)
/// sorted by machine type.
async fn cluster_nodes(
    args: &HealthArgs,
    plan: &Plan,
    endpoint_host: &str,
    channel: Channel,
) -> anyhow::Result<ClusterNodes> {
    if !args.control_plane_nodes.is_empty() || !args.worker_nodes.is_empty() {
        return Ok(ClusterNodes {
            control_plane: args.control_plane_nodes.clone(),
            workers: args.worker_nodes.clone(),
        });
    }
    let nodes = if plan.nodes.is_empty() {
        vec![endpoint_host.to_string()]
    } else {
        plan.nodes.clone()
    };
    Ok(classify(&NodeApi::new(channel), &nodes).await?)
}
