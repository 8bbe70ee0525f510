//! `cluster show`: the nodes of a cluster (name, role, IP, pid, state).

use basalt_provision::container::{self, ClusterState};
use basalt_provision::qemu_cluster;
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{StateDir, DEFAULT_NAME};
use crate::output;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns
    Table,
    /// YAML
    Yaml,
    /// JSON
    Json,
}

/// Arguments of `cluster show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Cluster name
    #[arg(long, default_value = DEFAULT_NAME)]
    pub name: String,
    /// Output format
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    #[command(flatten)]
    pub state: StateDir,
}

/// One row.
#[derive(Debug, Serialize)]
pub(super) struct NodeRow {
    pub(super) name: String,
    pub(super) role: String,
    pub(super) ip: String,
    /// The launcher's pid (container) or QEMU's (qemu).
    pub(super) pid: Option<i32>,
    pub(super) state: &'static str,
}

/// What `cluster show` prints.
#[derive(Debug, Serialize)]
pub(super) struct ClusterView {
    pub(super) name: String,
    /// `container`, or `qemu (tcg|kvm)`.
    pub(super) provisioner: String,
    pub(super) cidr: String,
    pub(super) bridge: String,
    pub(super) directory: String,
    pub(super) nodes: Vec<NodeRow>,
}

fn view(state: &ClusterState) -> ClusterView {
    let nodes = state
        .plan
        .nodes
        .iter()
        .map(|n| {
            let started = state.nodes.iter().find(|s| s.name == n.name);
            let pid = started.and_then(|s| s.pid);
            let running = started
                .is_some_and(|s| s.pid.is_some_and(|p| container::is_alive(p, s.start_time)));
            NodeRow {
                name: n.name.clone(),
                role: n.role.to_string(),
                ip: n.ip.to_string(),
                pid,
                state: match (started, running) {
                    (None, _) => "not started",
                    (Some(_), true) => "running",
                    (Some(_), false) => "stopped",
                },
            }
        })
        .collect();
    ClusterView {
        name: state.plan.name.clone(),
        provisioner: "container".to_string(),
        cidr: state.plan.cidr.to_string(),
        bridge: state.plan.bridge.clone(),
        directory: state.dir.display().to_string(),
        nodes,
    }
}

/// Runs `cluster show`.
pub fn run(args: &ShowArgs) -> anyhow::Result<()> {
    let dir = args.state.path();
    let v = if qemu_cluster::is_qemu_cluster(&dir, &args.name) {
        super::qemu::view(&dir, &args.name)?
    } else {
        view(&container::load(&dir, &args.name)?)
    };
    let text = match args.output {
        Format::Json => serde_json::to_string_pretty(&v)? + "\n",
        Format::Yaml => serde_yaml::to_string(&v)?,
        Format::Table => {
            let mut t = format!(
                "cluster {} ({}, {}, bridge {}, {})\n{:<32} {:<13} {:<16} {:<8} {}\n",
                v.name,
                v.provisioner,
                v.cidr,
                v.bridge,
                v.directory,
                "NAME",
                "ROLE",
                "IP",
                "PID",
                "STATE"
            );
            for n in &v.nodes {
                let pid = n.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into());
                t.push_str(&format!(
                    "{:<32} {:<13} {:<16} {:<8} {}\n",
                    n.name, n.role, n.ip, pid, n.state
                ));
            }
            t
        }
    };
    output::print(&text)?;
    Ok(())
}
