//! What a cluster will be: node names, roles, addresses and host link names.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::ContainerError;

/// The longest Linux interface name.
pub const IFNAMSIZ_MAX: usize = 15;

/// A node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs etcd, trustd and the control plane.
    Controlplane,
    /// Runs workloads only.
    Worker,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Controlplane => "controlplane",
            Role::Worker => "worker",
        })
    }
}

/// One planned node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePlan {
    /// Hostname (`<cluster>-controlplane-1`, `<cluster>-worker-1` …), also the etcd member name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Address on `eth0` (prefix = the cluster CIDR's).
    pub ip: Ipv4Addr,
    /// Network namespace name (`/run/netns/<netns>`).
    pub netns: String,
    /// Host side of the veth pair (attached to the bridge).
    pub veth: String,
}

/// A planned cluster (nothing exists yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPlan {
    /// Cluster name.
    pub name: String,
    /// The cluster network.
    pub cidr: Ipv4Net,
    /// The bridge's address (first host of the CIDR): every node's default gateway.
    pub gateway: Ipv4Addr,
    /// The host bridge.
    pub bridge: String,
    /// Control-plane nodes first, then workers.
    pub nodes: Vec<NodePlan>,
}

impl ClusterPlan {
    /// Plans `controlplanes` + `workers` nodes on `cidr` (node i gets the (i+2)-th address).
    pub fn new(
        name: &str,
        cidr: &str,
        controlplanes: usize,
        workers: usize,
    ) -> Result<Self, ContainerError> {
        check_name(name)?;
        let bad = |reason: String| ContainerError::BadCidr {
            cidr: cidr.to_string(),
            reason,
        };
        let net: Ipv4Net = cidr
            .parse()
            .map_err(|e| bad(format!("{e}; write it like 10.5.0.0/24")))?;
        let net = net.trunc();
        if controlplanes == 0 {
            return Err(ContainerError::BadName {
                name: name.to_string(),
                reason: "a cluster needs at least one control-plane node (--controlplanes 1)"
                    .to_string(),
            });
        }
        let mut hosts = net.hosts();
        let gateway = hosts
            .next()
            .ok_or_else(|| bad("has no host addresses".to_string()))?;
        let total = controlplanes + workers;
        let ips: Vec<Ipv4Addr> = hosts.take(total).collect();
        if ips.len() < total {
            return Err(bad(format!(
                "holds {} node addresses after the gateway, {total} are needed; use a larger network",
                ips.len()
            )));
        }
        let tag = short_tag(name);
        let roles = std::iter::repeat_n(Role::Controlplane, controlplanes)
            .chain(std::iter::repeat_n(Role::Worker, workers));
        let mut nodes = Vec::with_capacity(total);
        let (mut cp, mut w) = (0, 0);
        for (i, (role, ip)) in roles.zip(ips).enumerate() {
            let n = match role {
                Role::Controlplane => {
                    cp += 1;
                    cp
                }
                Role::Worker => {
                    w += 1;
                    w
                }
            };
            let node_name = format!("{name}-{role}-{n}");
            nodes.push(NodePlan {
                netns: format!("basalt-{node_name}"),
                veth: format!("bv{tag}-{i}"),
                name: node_name,
                role,
                ip,
            });
        }
        Ok(ClusterPlan {
            name: name.to_string(),
            cidr: net,
            gateway,
            bridge: bridge_name(name),
            nodes,
        })
    }

    /// The control-plane nodes.
    pub fn controlplanes(&self) -> impl Iterator<Item = &NodePlan> {
        self.nodes.iter().filter(|n| n.role == Role::Controlplane)
    }
}

/// `bslt-<name>` when it fits in 15 bytes, else `bslt-` + 10 hex digits of a hash of the name.
pub fn bridge_name(name: &str) -> String {
    let plain = format!("bslt-{name}");
    if plain.len() <= IFNAMSIZ_MAX {
        plain
    } else {
        format!("bslt-{:010x}", fnv1a(name) & 0xff_ffff_ffff)
    }
}

/// Six hex digits naming the cluster in its veth names (`bv<tag>-<i>`).
fn short_tag(name: &str) -> String {
    format!("{:06x}", fnv1a(name) & 0xff_ffff)
}

/// FNV-1a, 64 bits: stable across builds (unlike `DefaultHasher`).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Names become hostnames (`<name>-controlplane-1`, ≤ 63 bytes), directories and netns names.
fn check_name(name: &str) -> Result<(), ContainerError> {
    let bad = |reason: &str| ContainerError::BadName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() || name.len() > 40 {
        return Err(bad("use 1 to 40 characters"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || name.starts_with('-')
        || name.ends_with('-')
    {
        return Err(bad(
            "use lowercase letters, digits and '-' (not first or last), as in a hostname",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn default_layout() {
        let p = ClusterPlan::new("basalt-demo", "10.5.0.0/24", 3, 1).unwrap();
        assert_eq!(p.gateway, Ipv4Addr::new(10, 5, 0, 1));
        let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "basalt-demo-controlplane-1",
                "basalt-demo-controlplane-2",
                "basalt-demo-controlplane-3",
                "basalt-demo-worker-1"
            ]
        );
        assert_eq!(p.nodes[0].ip, Ipv4Addr::new(10, 5, 0, 2));
        assert_eq!(p.nodes[3].ip, Ipv4Addr::new(10, 5, 0, 5));
        assert_eq!(p.controlplanes().count(), 3);
        assert!(p.bridge.len() <= IFNAMSIZ_MAX, "{}", p.bridge);
        assert!(p.nodes.iter().all(|n| n.veth.len() <= IFNAMSIZ_MAX));
    }

    #[test]
    fn short_names_keep_a_readable_bridge() {
        assert_eq!(bridge_name("demo"), "bslt-demo");
        assert_ne!(bridge_name("basalt-demo"), bridge_name("basalt-demo2"));
    }

    #[test]
    fn rejects_bad_input_with_the_reason() {
        let e = ClusterPlan::new("Bad_Name", "10.5.0.0/24", 1, 0).unwrap_err();
        assert!(e.to_string().contains("lowercase"), "{e}");
        let e = ClusterPlan::new("x", "10.5.0.0/30", 3, 0).unwrap_err();
        assert!(e.to_string().contains("larger network"), "{e}");
        let e = ClusterPlan::new("x", "nonsense", 1, 0).unwrap_err();
        assert!(e.to_string().contains("10.5.0.0/24"), "{e}");
    }
}
