//! `--server`: the endpoint node runs the checks (`cluster.ClusterService/HealthCheck`) and
//! streams its progress lines; they are printed as they come.

use std::time::Duration;

use basalt_api::cluster::cluster_service_client::ClusterServiceClient;
use basalt_api::cluster::{ClusterInfo, HealthCheckRequest};
use basalt_health::ClusterNodes;
use tonic::transport::Channel;

use crate::client::status_error;

/// Asks the endpoint to check `nodes`, printing every progress line.
pub async fn run(channel: Channel, nodes: &ClusterNodes, wait: Duration) -> anyhow::Result<()> {
    let request = HealthCheckRequest {
        wait_timeout: Some(prost_types::Duration {
            seconds: i64::try_from(wait.as_secs()).unwrap_or(i64::MAX),
            nanos: 0,
        }),
        cluster_info: Some(ClusterInfo {
            control_plane_nodes: nodes.control_plane.clone(),
            worker_nodes: nodes.workers.clone(),
            force_endpoint: String::new(),
        }),
    };
    let what = "server-side health check";
    let mut stream = ClusterServiceClient::new(channel)
        .health_check(request)
        .await
        .map_err(|s| status_error(what, &s))?
        .into_inner();
    loop {
        match stream.message().await {
            Ok(Some(progress)) => {
                let node = progress
                    .metadata
                    .as_ref()
                    .map(|m| m.hostname.as_str())
                    .filter(|h| !h.is_empty());
                match node {
                    Some(node) => println!("{node}: {}", progress.message),
                    None => println!("{}", progress.message),
                }
            }
            Ok(None) => return Ok(()),
            Err(s) => return Err(status_error(what, &s)),
        }
    }
}
