//! The checks, their order, and the retry loop.

use std::fmt;
use std::time::{Duration, Instant};

use basalt_api::machine::EtcdMember;

use crate::{ClusterNodes, HealthError, NodeApi};

/// The checks in the order they run.
pub const CHECKS: [&str; 4] = [
    "etcd to be healthy",
    "etcd members to be control plane nodes",
    "apid to be ready",
    "all nodes to finish boot sequence",
];

/// How often a failing check is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// What a running health check reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A check started.
    Start {
        /// The check's name.
        check: &'static str,
    },
    /// A check failed this attempt and is retried (reported when the finding changes).
    Waiting {
        /// The check's name.
        check: &'static str,
        /// What is wrong where.
        detail: String,
    },
    /// A check passed.
    Passed {
        /// The check's name.
        check: &'static str,
        /// Time spent on it.
        elapsed: Duration,
    },
    /// A check failed for good (wait timeout over).
    Failed {
        /// The check's name.
        check: &'static str,
        /// Time spent on it.
        elapsed: Duration,
        /// What is wrong where.
        detail: String,
    },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::Start { check } => write!(f, "waiting for {check}"),
            Progress::Waiting { check, detail } => write!(f, "waiting for {check}: {detail}"),
            Progress::Passed { check, elapsed } => {
                write!(f, "waiting for {check}: OK ({:.1}s)", elapsed.as_secs_f64())
            }
            Progress::Failed {
                check,
                elapsed,
                detail,
            } => write!(
                f,
                "waiting for {check}: FAILED after {:.1}s: {detail}",
                elapsed.as_secs_f64()
            ),
        }
    }
}

/// Runs every check against `nodes` through `api`, retrying each until `wait_timeout`
/// (counted from the start of the whole run) is over.
pub async fn run(
    api: &NodeApi,
    nodes: &ClusterNodes,
    wait_timeout: Duration,
    report: &mut (dyn FnMut(Progress) + Send),
) -> Result<(), HealthError> {
    if nodes.control_plane.is_empty() {
        return Err(HealthError::NoControlPlane(
            "the node list has no control-plane node; give --control-plane-nodes".to_string(),
        ));
    }
    let deadline = Instant::now() + wait_timeout;
    for check in CHECKS {
        report(Progress::Start { check });
        let start = Instant::now();
        let mut last: Option<String> = None;
        loop {
            match one(api, nodes, check).await {
                Ok(()) => {
                    report(Progress::Passed {
                        check,
                        elapsed: start.elapsed(),
                    });
                    break;
                }
                Err(detail) if Instant::now() + RETRY >= deadline => {
                    let elapsed = start.elapsed();
                    report(Progress::Failed {
                        check,
                        elapsed,
                        detail: detail.clone(),
                    });
                    return Err(HealthError::CheckFailed {
                        check,
                        elapsed,
                        detail,
                    });
                }
                Err(detail) => {
                    if last.as_ref() != Some(&detail) {
                        report(Progress::Waiting {
                            check,
                            detail: detail.clone(),
                        });
                        last = Some(detail);
                    }
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }
    Ok(())
}

async fn one(api: &NodeApi, nodes: &ClusterNodes, check: &str) -> Result<(), String> {
    match check {
        "etcd to be healthy" => etcd_healthy(api, &nodes.control_plane).await,
        "etcd members to be control plane nodes" => etcd_members(api, &nodes.control_plane).await,
        "apid to be ready" => apid_ready(api, &nodes.all()).await,
        _ => boot_finished(api, &nodes.all()).await,
    }
}

fn joined(problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

async fn etcd_healthy(api: &NodeApi, control_plane: &[String]) -> Result<(), String> {
    let mut problems = Vec::new();
    for node in control_plane {
        match api.etcd_status(node).await {
            Ok(s) if s.leader == 0 => problems.push(format!("{node}: etcd has no leader")),
            Ok(_) => {}
            Err(e) => problems.push(e),
        }
    }
    joined(problems)
}

/// The host of a URL such as `https://10.5.0.2:2380` or `https://[fd00::2]:2380`.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split_once(']').map_or(v6, |(h, _)| h);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

/// The host of a node as given (`10.5.0.2`, `10.5.0.2:50000`, `[fd00::2]:50000`).
fn node_host(node: &str) -> &str {
    if node.starts_with('[') || node.matches(':').count() == 1 {
        url_host(node)
    } else {
        node
    }
}

fn is_member_of(member: &EtcdMember, node: &str) -> bool {
    let host = node_host(node);
    member.hostname == host
        || member
            .peer_urls
            .iter()
            .chain(&member.client_urls)
            .any(|u| url_host(u) == host)
}

/// Compares etcd's member list with the control-plane nodes: what is missing, extra or
/// still a learner.
pub(crate) fn compare_members(members: &[EtcdMember], control_plane: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for node in control_plane {
        match members.iter().find(|m| is_member_of(m, node)) {
            None => problems.push(format!("control-plane node {node} is not an etcd member")),
            Some(m) if m.is_learner => problems.push(format!(
                "etcd member {} ({node}) is still a learner (not promoted yet)",
                m.hostname
            )),
            Some(_) => {}
        }
    }
    for m in members {
        if !control_plane.iter().any(|n| is_member_of(m, n)) {
            let name = if m.hostname.is_empty() {
                "(not started)"
            } else {
                m.hostname.as_str()
            };
            problems.push(format!(
                "etcd member {name} {:x} ({}) is not one of the control-plane nodes {}",
                m.id,
                m.peer_urls.join(","),
                control_plane.join(",")
            ));
        }
    }
    problems
}

async fn etcd_members(api: &NodeApi, control_plane: &[String]) -> Result<(), String> {
    let mut errors = Vec::new();
    for node in control_plane {
        match api.etcd_members(node).await {
            Ok(members) => {
                return joined(
                    compare_members(&members, control_plane)
                        .into_iter()
                        .map(|p| format!("{p} (member list from {node})"))
                        .collect(),
                )
            }
            Err(e) => errors.push(e),
        }
    }
    Err(errors.join("; "))
}

async fn apid_ready(api: &NodeApi, all: &[String]) -> Result<(), String> {
    let mut problems = Vec::new();
    for node in all {
        if let Err(e) = api.version(node).await {
            problems.push(e);
        }
    }
    joined(problems)
}

async fn boot_finished(api: &NodeApi, all: &[String]) -> Result<(), String> {
    let mut problems = Vec::new();
    for node in all {
        match api.machine_status(node).await {
            Ok((stage, true)) if stage == "running" => {}
            Ok((stage, ready)) => problems.push(format!(
                "{node}: stage {stage}, ready {ready} (boot not finished)"
            )),
            Err(e) => problems.push(e),
        }
    }
    joined(problems)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn member(id: u64, name: &str, ip: &str, learner: bool) -> EtcdMember {
        EtcdMember {
            id,
            hostname: name.to_string(),
            peer_urls: vec![format!("https://{ip}:2380")],
            client_urls: vec![format!("https://{ip}:2379")],
            is_learner: learner,
        }
    }

    fn cp(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exact_membership_passes() {
        let members = [
            member(1, "a", "10.5.0.2", false),
            member(2, "b", "10.5.0.3", false),
        ];
        assert!(compare_members(&members, &cp(&["10.5.0.2", "10.5.0.3:50000"])).is_empty());
    }

    #[test]
    fn missing_extra_and_learner_members_are_named() {
        let members = [
            member(1, "a", "10.5.0.2", false),
            member(2, "b", "10.5.0.3", true),
            member(0xff, "old", "10.5.0.9", false),
        ];
        let problems = compare_members(&members, &cp(&["10.5.0.2", "10.5.0.3", "10.5.0.4"]));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("b (10.5.0.3) is still a learner"));
        assert!(problems[1].contains("10.5.0.4 is not an etcd member"));
        assert!(problems[2].contains("old ff (https://10.5.0.9:2380) is not one of"));
    }

    #[test]
    fn hosts_of_urls_and_nodes() {
        assert_eq!(url_host("https://[fd00::2]:2380"), "fd00::2");
        assert_eq!(url_host("https://10.5.0.2:2379"), "10.5.0.2");
        assert_eq!(node_host("fd00::2"), "fd00::2");
        assert_eq!(node_host("[fd00::2]:50000"), "fd00::2");
        assert_eq!(node_host("node-1"), "node-1");
    }

    #[test]
    fn progress_lines() {
        let p = Progress::Failed {
            check: CHECKS[2],
            elapsed: Duration::from_millis(1500),
            detail: "10.5.0.3: version: unreachable".into(),
        };
        assert_eq!(
            p.to_string(),
            "waiting for apid to be ready: FAILED after 1.5s: 10.5.0.3: version: unreachable"
        );
    }
}
