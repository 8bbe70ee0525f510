//! `create`: check everything first, then make the cluster step by step, recording each step
//! in `state.json`; on a failure remove what was made.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::destroy::destroy_state;
use super::ip::{self, ip};
use super::plan::{ClusterPlan, NodePlan};
use super::process;
use super::state::{ClusterState, NodeState};
use super::ContainerError;

/// The node image inside an image directory (`cargo xtask image` output).
pub const ROOTFS: &str = "rootfs.sqsh";
/// How long a launcher may take to start machined.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// What to create.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// Names, addresses and links.
    pub plan: ClusterPlan,
    /// Where clusters live (`~/.basalt/clusters`).
    pub clusters_dir: PathBuf,
    /// The image directory holding `rootfs.sqsh` (`target/image`).
    pub image_dir: PathBuf,
    /// The machine config of every node, in plan order.
    pub configs: Vec<Vec<u8>>,
}

/// `CLUSTERS/<name>`.
pub fn cluster_dir(clusters_dir: &Path, name: &str) -> PathBuf {
    clusters_dir.join(name)
}

/// Refuses a cluster that exists (directory, bridge, links, namespaces), a CIDR in use, a
/// missing image or a non-root caller. Touches nothing.
pub fn preflight(
    plan: &ClusterPlan,
    clusters_dir: &Path,
    image_dir: &Path,
) -> Result<(), ContainerError> {
    let exists = |what: String| ContainerError::Exists {
        name: plan.name.clone(),
        what,
    };
    let dir = cluster_dir(clusters_dir, &plan.name);
    if dir.exists() {
        return Err(exists(format!("directory {}", dir.display())));
    }
    if !nix::unistd::geteuid().is_root() {
        return Err(ContainerError::NotRoot);
    }
    if ip::link_exists(&plan.bridge) {
        return Err(exists(format!("bridge {}", plan.bridge)));
    }
    for node in &plan.nodes {
        if ip::link_exists(&node.veth) {
            return Err(exists(format!("link {} (node {})", node.veth, node.name)));
        }
        if ip::netns_exists(&node.netns) {
            return Err(exists(format!("network namespace {}", node.netns)));
        }
    }
    if let Some((used, source_kind)) = ip::overlap(plan.cidr)? {
        return Err(ContainerError::CidrInUse {
            cidr: plan.cidr.to_string(),
            used,
            source_kind,
        });
    }
    let image = image_dir.join(ROOTFS);
    if !image.is_file() {
        return Err(ContainerError::NoImage { path: image });
    }
    Ok(())
}

/// Creates the cluster and starts every node; returns its state. `progress` gets one line
/// per step.
pub fn create(
    req: &CreateRequest,
    progress: &mut dyn FnMut(&str),
) -> Result<ClusterState, ContainerError> {
    let plan = &req.plan;
    if req.configs.len() != plan.nodes.len() {
        return Err(ContainerError::BadName {
            name: plan.name.clone(),
            reason: format!(
                "{} configs given for {} nodes (internal error)",
                req.configs.len(),
                plan.nodes.len()
            ),
        });
    }
    preflight(plan, &req.clusters_dir, &req.image_dir)?;
    let dir = cluster_dir(&req.clusters_dir, &plan.name);
    std::fs::create_dir_all(&req.clusters_dir)
        .map_err(ContainerError::io("create", &req.clusters_dir))?;
    // create_dir (not _all): fails if another create raced us to the same name.
    std::fs::create_dir(&dir).map_err(ContainerError::io("create", &dir))?;
    let mut state = ClusterState {
        plan: plan.clone(),
        dir: dir.clone(),
        bridge_made: false,
        netns: Vec::new(),
        links: Vec::new(),
        nodes: Vec::new(),
    };
    match build(req, &mut state, progress) {
        Ok(()) => Ok(state),
        Err(cause) => {
            let report = destroy_state(&state, Duration::from_secs(10));
            Err(ContainerError::RolledBack {
                cause: Box::new(cause),
                cleaned: report.summary(),
            })
        }
    }
}

fn build(
    req: &CreateRequest,
    state: &mut ClusterState,
    progress: &mut dyn FnMut(&str),
) -> Result<(), ContainerError> {
    let plan = &req.plan;
    let dir = state.dir.clone();
    state.save()?;
    let launcher = prepare_image(&req.image_dir, &dir)?;
    progress(&format!(
        "image copied, launcher extracted to {}",
        launcher.display()
    ));

    ip(&["link", "add", &plan.bridge, "type", "bridge"])?;
    state.bridge_made = true;
    state.save()?;
    let gw = format!("{}/{}", plan.gateway, plan.cidr.prefix_len());
    ip(&["addr", "add", &gw, "dev", &plan.bridge])?;
    ip(&["link", "set", &plan.bridge, "up"])?;
    progress(&format!("bridge {} with {gw}", plan.bridge));

    for node in &plan.nodes {
        ip(&["netns", "add", &node.netns])?;
        state.netns.push(node.netns.clone());
        state.save()?;
        ip(&[
            "link",
            "add",
            &node.veth,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &node.netns,
        ])?;
        state.links.push(node.veth.clone());
        state.save()?;
        ip(&["link", "set", &node.veth, "master", &plan.bridge])?;
        ip(&["link", "set", &node.veth, "up"])?;
    }
    progress(&format!(
        "{} network namespaces with eth0 on {}",
        plan.nodes.len(),
        plan.bridge
    ));

    let image = dir.join("image").join(ROOTFS);
    for (node, config) in plan.nodes.iter().zip(&req.configs) {
        let started = start_node(&dir, &launcher, &image, node, Some(config))?;
        state.nodes.push(started);
        state.save()?;
    }
    for i in 0..state.nodes.len() {
        let machined = wait_started(&state.nodes[i])?;
        state.nodes[i].machined_pid = Some(machined);
        state.nodes[i].machined_start_time = process::start_time(machined);
        progress(&format!(
            "node {} started (launcher pid {}, machined pid {machined})",
            state.nodes[i].name,
            state.nodes[i].pid.unwrap_or_default()
        ));
    }
    state.save()
}

/// Copies the image into the cluster (later rebuilds do not touch a running cluster) and
/// extracts its static `basalt` binary, which runs the launcher on the host.
fn prepare_image(image_dir: &Path, dir: &Path) -> Result<PathBuf, ContainerError> {
    let image = dir.join("image");
    std::fs::create_dir(&image).map_err(ContainerError::io("create", &image))?;
    let from = image_dir.join(ROOTFS);
    let to = image.join(ROOTFS);
    std::fs::copy(&from, &to).map_err(ContainerError::io("copy", &from))?;
    let out = dir.join("launcher");
    ip::run(
        Command::new("unsquashfs")
            .arg("-q")
            .arg("-no-xattrs")
            .arg("-d")
            .arg(&out)
            .arg(&to)
            .arg("usr/bin/basalt"),
    )?;
    Ok(out.join("usr/bin/basalt"))
}

fn start_node(
    dir: &Path,
    launcher: &Path,
    image: &Path,
    node: &NodePlan,
    config: Option<&[u8]>,
) -> Result<NodeState, ContainerError> {
    let node_dir = dir.join("nodes").join(&node.name);
    for sub in ["state", "ephemeral", "sockets", "root"] {
        let d = node_dir.join(sub);
        std::fs::create_dir_all(&d).map_err(ContainerError::io("create", &d))?;
    }
    let config_path = node_dir.join("config.yaml");
    if let Some(config) = config {
        write_private(&config_path, config)?;
    }
    let log_path = node_dir.join("console.log");
    let log = File::create(&log_path).map_err(ContainerError::io("create", &log_path))?;
    let log2 = log
        .try_clone()
        .map_err(ContainerError::io("open", &log_path))?;
    let netns = Path::new("/run/netns").join(&node.netns);
    let mut cmd = Command::new(launcher);
    cmd.arg("launch")
        .arg("--root")
        .arg(node_dir.join("root"))
        .arg("--root-image")
        .arg(image)
        .arg("--netns")
        .arg(&netns)
        .arg("--state")
        .arg(node_dir.join("state"))
        .arg("--ephemeral")
        .arg(node_dir.join("ephemeral"))
        .arg("--socket-dir")
        .arg(node_dir.join("sockets"))
        .arg("--hostname")
        .arg(&node.name)
        .arg("--config")
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    // Its own process group: a Ctrl-C in the terminal does not reach the nodes.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd.spawn().map_err(|e| ContainerError::Command {
        command: format!("{} launch … (node {})", launcher.display(), node.name),
        detail: e.to_string(),
    })?;
    let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
    Ok(NodeState {
        name: node.name.clone(),
        pid: Some(pid),
        start_time: process::start_time(pid),
        machined_pid: None,
        machined_start_time: None,
        dir: node_dir,
    })
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ContainerError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(ContainerError::io("create", path))?;
    f.write_all(bytes)
        .map_err(ContainerError::io("write", path))
}

/// Waits for the launcher's `machined pid N` line; fails with the log's tail if it exits.
fn wait_started(node: &NodeState) -> Result<i32, ContainerError> {
    let log = node.dir.join("console.log");
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(pid) = text.lines().find_map(|l| {
            l.strip_prefix("machined pid ")
                .and_then(|p| p.trim().parse().ok())
        }) {
            return Ok(pid);
        }
        let alive = node
            .pid
            .is_some_and(|p| process::is_alive(p, node.start_time));
        if !alive || Instant::now() >= deadline {
            let status = if alive {
                format!("no `machined pid` line after {START_TIMEOUT:?}")
            } else {
                "exited".to_string()
            };
            return Err(ContainerError::NodeExited {
                node: node.name.clone(),
                status,
                log,
                tail: tail(&text, 15),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts node `node_name` of the cluster in `state` again after its machined ended (a
/// crash, a kill): same root image, network namespace, STATE and EPHEMERAL, so it boots
/// from its persisted config and rejoins. Refused while the node still runs. The console
/// log starts over; `state.json` records the new pids.
pub fn restart_node(state: &mut ClusterState, node_name: &str) -> Result<(), ContainerError> {
    let index = state
        .nodes
        .iter()
        .position(|n| n.name == node_name)
        .ok_or_else(|| ContainerError::BadName {
            name: node_name.to_string(),
            reason: format!("cluster {} has no such node", state.plan.name),
        })?;
    let old = &state.nodes[index];
    let running = [
        (old.pid, old.start_time),
        (old.machined_pid, old.machined_start_time),
    ]
    .iter()
    .any(|(pid, started)| pid.is_some_and(|p| process::is_alive(p, *started)));
    if running {
        return Err(ContainerError::BadName {
            name: node_name.to_string(),
            reason: "the node is still running; stop it first".to_string(),
        });
    }
    let plan = state
        .plan
        .nodes
        .iter()
        .find(|n| n.name == node_name)
        .cloned()
        .ok_or_else(|| ContainerError::BadName {
            name: node_name.to_string(),
            reason: "not in the cluster plan".to_string(),
        })?;
    let launcher = state.dir.join("launcher/usr/bin/basalt");
    let image = state.dir.join("image").join(ROOTFS);
    let mut started = start_node(&state.dir, &launcher, &image, &plan, None)?;
    let machined = wait_started(&started)?;
    started.machined_pid = Some(machined);
    started.machined_start_time = process::start_time(machined);
    state.nodes[index] = started;
    state.save()
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
