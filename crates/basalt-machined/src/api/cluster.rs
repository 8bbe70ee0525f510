//! `cluster.ClusterService/HealthCheck`: this control-plane node runs the health checks of
//! `basalt-health` against the nodes of the request, through its own apid (mutual TLS with an
//! `os:reader` certificate it issues from `machine.ca`), and streams one progress line per
//! step. A failed check ends the stream with UNAVAILABLE naming what is wrong where.

use std::time::Duration;

use basalt_api::cluster::cluster_service_server::ClusterService;
use basalt_api::cluster::{HealthCheckProgress, HealthCheckRequest};
use basalt_health::{ClusterNodes, NodeApi, Progress};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::cosi_state::BoxStream;
use super::handle::ApiHandle;
use crate::machine::apid_service::APID_PORT;

/// Wait timeout when the request gives none (talosctl's default).
const DEFAULT_WAIT: Duration = Duration::from_secs(20 * 60);

/// The cluster service.
#[derive(Clone, Debug)]
pub struct Cluster {
    handle: ApiHandle,
}

impl Cluster {
    /// A cluster service of the node behind `handle`.
    pub fn new(handle: ApiHandle) -> Self {
        Cluster { handle }
    }
}

/// `machine.ca` (crt, key) as PEM text: present on control-plane nodes only.
fn os_ca(handle: &ApiHandle) -> Result<(String, String), Status> {
    let refuse = |why: &str| {
        Status::failed_precondition(format!(
            "node {}: {why}; run the server-side health check on a control-plane node \
             (basaltctl -e CONTROL_PLANE_IP health --server), or drop --server",
            handle.hostname()
        ))
    };
    let config = handle
        .power
        .machine_config()
        .ok_or_else(|| refuse("it has no machine config (maintenance mode)"))?;
    let ca = config
        .v1alpha1()
        .and_then(|d| d.machine.ca.clone())
        .ok_or_else(|| refuse("its config has no machine.ca"))?;
    let text = |v: Option<&basalt_config::v1alpha1::Base64Pem>, field: &str| {
        let v =
            v.ok_or_else(|| refuse(&format!("{field} is missing (not a control-plane node)")))?;
        let bytes = v
            .decode()
            .map_err(|e| refuse(&format!("{field} is not base64 PEM: {e}")))?;
        String::from_utf8(bytes).map_err(|_| refuse(&format!("{field} is not UTF-8 PEM")))
    };
    Ok((
        text(ca.crt(), "machine.ca.crt")?,
        text(ca.key(), "machine.ca.key")?,
    ))
}

#[tonic::async_trait]
impl ClusterService for Cluster {
    type HealthCheckStream = BoxStream<HealthCheckProgress>;

    async fn health_check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::HealthCheckStream>, Status> {
        let req = request.into_inner();
        let (ca_crt, ca_key) = os_ca(&self.handle)?;
        let info = req.cluster_info.unwrap_or_default();
        let nodes = ClusterNodes {
            control_plane: info.control_plane_nodes,
            workers: info.worker_nodes,
        };
        let Some(first) = nodes.control_plane.first().cloned() else {
            return Err(Status::invalid_argument(
                "health check: cluster_info names no control-plane node; give \
                 --control-plane-nodes",
            ));
        };
        let wait = req
            .wait_timeout
            .and_then(|d| Duration::try_from(d).ok())
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_WAIT);
        let host = first
            .trim_start_matches('[')
            .split(']')
            .next()
            .unwrap_or_default()
            .to_string();
        let channel =
            basalt_health::connect_with_os_ca(&host, APID_PORT, &ca_crt, &ca_key, &["os:reader"])
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
        let metadata = self.handle.metadata();
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            let api = NodeApi::new(channel);
            let lines = tx.clone();
            let meta = metadata.clone();
            let mut report = move |p: Progress| {
                if matches!(p, Progress::Start { .. }) {
                    return;
                }
                let _ = lines.try_send(Ok(HealthCheckProgress {
                    metadata: meta.clone(),
                    message: p.to_string(),
                }));
            };
            if let Err(e) = basalt_health::run(&api, &nodes, wait, &mut report).await {
                let _ = tx.send(Err(Status::unavailable(e.to_string()))).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
