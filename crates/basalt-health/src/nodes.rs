//! The calls the checks make, each aimed at one node through apid (`node` metadata), and the
//! sorting of nodes into control plane and workers.

use std::time::Duration;

use basalt_api::cosi::resource::state_client::StateClient;
use basalt_api::cosi::resource::{GetRequest, ListRequest};
use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_api::machine::{EtcdMember, EtcdMemberListRequest, EtcdMemberStatus};
use serde::Deserialize;
use tonic::transport::Channel;

use crate::HealthError;

/// Bound on every call.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The nodes a cluster should consist of (addresses or names as apid reaches them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterNodes {
    /// Control-plane nodes (run etcd).
    pub control_plane: Vec<String>,
    /// Worker nodes.
    pub workers: Vec<String>,
}

impl ClusterNodes {
    /// Every node, control plane first.
    pub fn all(&self) -> Vec<String> {
        self.control_plane
            .iter()
            .chain(&self.workers)
            .cloned()
            .collect()
    }
}

/// One apid, reaching every node by forwarding. Cheap to clone.
#[derive(Clone, Debug)]
pub struct NodeApi {
    channel: Channel,
}

#[derive(Deserialize)]
struct MachineStatus {
    stage: String,
    ready: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Member {
    machine_type: String,
}

fn aimed<T>(node: &str, message: T) -> Result<tonic::Request<T>, String> {
    let mut request = tonic::Request::new(message);
    let value = node
        .parse()
        .map_err(|_| format!("{node}: not a valid node name (ASCII only)"))?;
    request.metadata_mut().insert("node", value);
    request.set_timeout(CALL_TIMEOUT);
    Ok(request)
}

fn failed(node: &str, call: &str, status: &tonic::Status) -> String {
    let message = status.message().trim();
    let message = if message.is_empty() {
        "no reason given"
    } else {
        message
    };
    format!("{node}: {call}: {message} ({:?})", status.code())
}

async fn bounded<T>(
    node: &str,
    call: &str,
    f: impl std::future::Future<Output = Result<T, tonic::Status>>,
) -> Result<T, String> {
    match tokio::time::timeout(CALL_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(status)) => Err(failed(node, call, &status)),
        Err(_) => Err(format!(
            "{node}: {call}: no answer within {}s",
            CALL_TIMEOUT.as_secs()
        )),
    }
}

impl NodeApi {
    /// Calls through `channel` (connected to any apid of the cluster).
    pub fn new(channel: Channel) -> Self {
        NodeApi { channel }
    }

    fn machine(&self) -> MachineServiceClient<Channel> {
        MachineServiceClient::new(self.channel.clone())
    }

    /// `Version` on `node`.
    pub async fn version(&self, node: &str) -> Result<String, String> {
        let request = aimed(node, ())?;
        let reply = bounded(node, "version", self.machine().version(request)).await?;
        Ok(reply
            .into_inner()
            .messages
            .into_iter()
            .next()
            .and_then(|m| m.version)
            .map(|v| v.tag)
            .unwrap_or_default())
    }

    /// `EtcdStatus` on `node`.
    pub async fn etcd_status(&self, node: &str) -> Result<EtcdMemberStatus, String> {
        let request = aimed(node, ())?;
        let reply = bounded(node, "etcd status", self.machine().etcd_status(request)).await?;
        reply
            .into_inner()
            .messages
            .into_iter()
            .next()
            .and_then(|m| m.member_status)
            .ok_or_else(|| format!("{node}: etcd status: the reply held no member status"))
    }

    /// `EtcdMemberList` on `node`.
    pub async fn etcd_members(&self, node: &str) -> Result<Vec<EtcdMember>, String> {
        let request = aimed(node, EtcdMemberListRequest { query_local: false })?;
        let reply = bounded(
            node,
            "etcd members",
            self.machine().etcd_member_list(request),
        )
        .await?;
        Ok(reply
            .into_inner()
            .messages
            .into_iter()
            .flat_map(|m| m.members)
            .collect())
    }

    async fn yaml_spec(
        &self,
        node: &str,
        namespace: &str,
        kind: &str,
        id: &str,
    ) -> Result<String, String> {
        let request = aimed(
            node,
            GetRequest {
                namespace: namespace.to_string(),
                r#type: kind.to_string(),
                id: id.to_string(),
                options: None,
            },
        )?;
        let call = format!("get {kind} {id}");
        let reply = bounded(
            node,
            &call,
            StateClient::new(self.channel.clone()).get(request),
        )
        .await?;
        reply
            .into_inner()
            .resource
            .and_then(|r| r.spec)
            .map(|s| s.yaml_spec)
            .ok_or_else(|| format!("{node}: {call}: the reply held no resource"))
    }

    /// The machine stage and readiness of `node` (`MachineStatuses.runtime.basalt.dev`).
    pub async fn machine_status(&self, node: &str) -> Result<(String, bool), String> {
        let yaml = self
            .yaml_spec(
                node,
                "runtime",
                "MachineStatuses.runtime.basalt.dev",
                "machine",
            )
            .await?;
        let s: MachineStatus = serde_yaml::from_str(&yaml)
            .map_err(|e| format!("{node}: machine status is not readable: {e}"))?;
        Ok((s.stage, s.ready))
    }

    /// The machine type (`controlplane` / `worker`) `node` publishes about itself
    /// (`Members.cluster.basalt.dev`).
    pub async fn machine_type(&self, node: &str) -> Result<String, String> {
        let request = aimed(
            node,
            ListRequest {
                namespace: "cluster".to_string(),
                r#type: "Members.cluster.basalt.dev".to_string(),
                options: None,
            },
        )?;
        let mut stream = bounded(
            node,
            "list members",
            StateClient::new(self.channel.clone()).list(request),
        )
        .await?
        .into_inner();
        while let Some(item) = bounded(node, "list members", stream.message()).await? {
            let Some(spec) = item.resource.and_then(|r| r.spec) else {
                continue;
            };
            if let Ok(member) = serde_yaml::from_str::<Member>(&spec.yaml_spec) {
                return Ok(member.machine_type);
            }
        }
        Err(format!(
            "{node}: publishes no member resource (no config yet?)"
        ))
    }
}

/// Sorts `nodes` into control plane and workers by the machine type each publishes.
pub async fn classify(api: &NodeApi, nodes: &[String]) -> Result<ClusterNodes, HealthError> {
    let mut out = ClusterNodes::default();
    for node in nodes {
        let kind = api
            .machine_type(node)
            .await
            .map_err(|reason| HealthError::Classify {
                node: node.clone(),
                reason,
            })?;
        if kind == "controlplane" {
            out.control_plane.push(node.clone());
        } else {
            out.workers.push(node.clone());
        }
    }
    Ok(out)
}
