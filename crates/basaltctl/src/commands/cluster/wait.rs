//! Waiting for a new cluster: apid on every node (mTLS `version`), `Bootstrap` on the first
//! control-plane node, then every control-plane node an etcd voter.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use basalt_api::machine::{BootstrapRequest, EtcdMemberListRequest};
use basalt_provision::container::ClusterPlan;

use super::progress::Steps;
use crate::client::Client;
use crate::global::GlobalArgs;

const POLL: Duration = Duration::from_millis(500);

/// Global flags that reach `ip`, and only `ip`, with the cluster's own client config (the
/// context lists every node: without `-n ip` a call would fan out to all of them, and a
/// `Bootstrap` sent to every control-plane node makes as many one-member clusters).
pub(super) fn global_for(basaltconfig: &Path, context: &str, ip: &str) -> GlobalArgs {
    GlobalArgs {
        basaltconfig: Some(basaltconfig.to_path_buf()),
        context: Some(context.to_string()),
        endpoints: vec![ip.to_string()],
        nodes: vec![ip.to_string()],
        insecure: false,
        cert_fingerprint: Vec::new(),
        socket: None,
    }
}

/// One mTLS `version` call to the node at `ip`.
async fn version(basaltconfig: &Path, context: &str, ip: &str) -> anyhow::Result<()> {
    let mut client = Client::connect(&global_for(basaltconfig, context, ip)).await?;
    client.machine.version(()).await?;
    Ok(())
}

/// Waits until apid answers `version` over mTLS on every node.
pub async fn apid_ready(
    plan: &ClusterPlan,
    basaltconfig: &Path,
    steps: &Steps,
    timeout: Duration,
) -> anyhow::Result<()> {
    let spinner = steps.spinner("waiting for apid on every node");
    let deadline = Instant::now() + timeout;
    let mut pending: Vec<(String, String)> = plan
        .nodes
        .iter()
        .map(|n| (n.name.clone(), n.ip.to_string()))
        .collect();
    let mut last_error = String::new();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for (name, ip) in pending {
            if let Err(e) = version(basaltconfig, &plan.name, &ip).await {
                last_error = format!("{name} ({ip}): {e:#}");
                still.push((name, ip));
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        let names: Vec<&str> = pending.iter().map(|(n, _)| n.as_str()).collect();
        spinner.set(format!("waiting for apid on {}", names.join(", ")));
        if Instant::now() >= deadline {
            spinner.finish();
            bail!(
                "apid did not answer within {timeout:?} on: {}; last error: {last_error}. \
                 See the console logs (nodes/<name>/console.log in the cluster directory)",
                names.join(", ")
            );
        }
        tokio::time::sleep(POLL).await;
    }
    spinner.finish();
    steps.done(&format!("apid ready on {} nodes (mTLS)", plan.nodes.len()));
    Ok(())
}

/// Sends `Bootstrap` to the first control-plane node (retried until `timeout`: etcd's
/// service may still be starting).
pub async fn bootstrap(
    plan: &ClusterPlan,
    basaltconfig: &Path,
    steps: &Steps,
    timeout: Duration,
) -> anyhow::Result<()> {
    let Some(first) = plan.controlplanes().next() else {
        bail!("the cluster has no control-plane node to bootstrap");
    };
    let ip = first.ip.to_string();
    let spinner = steps.spinner(&format!("bootstrapping etcd on {}", first.name));
    let deadline = Instant::now() + timeout;
    loop {
        let attempt = async {
            let mut client = Client::connect(&global_for(basaltconfig, &plan.name, &ip)).await?;
            // The single Bootstrap call site of `cluster create`.
            client
                .machine
                .bootstrap(BootstrapRequest {
                    recover_etcd: false,
                    recover_skip_hash_check: false,
                })
                .await?;
            anyhow::Ok(())
        };
        match attempt.await {
            Ok(()) => break,
            Err(e) if Instant::now() >= deadline => {
                spinner.finish();
                bail!("Bootstrap on {} ({ip}) failed: {e:#}", first.name);
            }
            Err(e) => spinner.set(format!("bootstrapping etcd on {}: {e:#}", first.name)),
        }
        tokio::time::sleep(POLL).await;
    }
    spinner.finish();
    steps.done(&format!("bootstrap sent to {} ({ip})", first.name));
    Ok(())
}

/// Waits until `EtcdMemberList` (asked of the first control-plane node) shows every
/// control-plane node as a voting member.
pub async fn etcd_voters(
    plan: &ClusterPlan,
    basaltconfig: &Path,
    steps: &Steps,
    timeout: Duration,
) -> anyhow::Result<()> {
    let wanted: Vec<String> = plan.controlplanes().map(|n| n.name.clone()).collect();
    let ips: Vec<String> = plan.controlplanes().map(|n| n.ip.to_string()).collect();
    let spinner = steps.spinner("waiting for every control-plane node to be an etcd voter");
    let deadline = Instant::now() + timeout;
    let mut missing = wanted.clone();
    let mut last_error = String::new();
    loop {
        // Any control-plane node can answer: try them in order.
        for ip in &ips {
            let asked = async {
                let mut client = Client::connect(&global_for(basaltconfig, &plan.name, ip)).await?;
                let reply = client
                    .machine
                    .etcd_member_list(EtcdMemberListRequest { query_local: false })
                    .await?
                    .into_inner();
                anyhow::Ok(reply)
            };
            match asked.await {
                Ok(reply) => {
                    let voters: Vec<String> = reply
                        .messages
                        .iter()
                        .flat_map(|m| &m.members)
                        .filter(|m| !m.is_learner)
                        .map(|m| m.hostname.clone())
                        .collect();
                    missing = wanted
                        .iter()
                        .filter(|w| !voters.contains(w))
                        .cloned()
                        .collect();
                    break;
                }
                Err(e) => last_error = format!("{ip}: {e:#}"),
            }
        }
        if missing.is_empty() {
            break;
        }
        spinner.set(format!("waiting for etcd voters: {}", missing.join(", ")));
        if Instant::now() >= deadline {
            spinner.finish();
            bail!(
                "after {timeout:?} these control-plane nodes are not etcd voters: {} \
                 (last error: {}); check `basaltctl --context {} etcd members` and their \
                 console logs",
                missing.join(", "),
                if last_error.is_empty() {
                    "none"
                } else {
                    &last_error
                },
                plan.name
            );
        }
        tokio::time::sleep(POLL).await;
    }
    spinner.finish();
    steps.done(&format!("etcd has {} voting members", wanted.len()));
    Ok(())
}
