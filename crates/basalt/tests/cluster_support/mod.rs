//! Multi-node test clusters: N container-mode nodes (`basalt launch`, as in the launch tests)
//! on one test network (see [`net`]): node `k` is `node-<k>` with `eth0` = `10.231.<o>.<10+k>/24`,
//! configured by machined from its control-plane config; the host is `10.231.<o>.1`.
//!
//! Everything is torn down on drop, also when a test fails: nodes get SIGTERM (SIGKILL for
//! their PID 1 after 60 s), then the switch namespace and the host link are deleted.

#![allow(clippy::unwrap_used, dead_code)]

#[path = "../launch_support/mod.rs"]
pub mod launch;

pub mod config;
pub mod edit;
pub mod maintenance;
pub mod net;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use launch::{build_node_with, install, Launched, NodeDirs};
pub use net::Switch;

/// One node of a [`Cluster`].
pub struct ClusterNode {
    /// `node-<k>`.
    pub name: String,
    /// Its `eth0` address.
    pub ip: Ipv4Addr,
    /// Its host directories (root, STATE, EPHEMERAL, sockets).
    pub dirs: NodeDirs,
    /// The running launcher.
    pub launched: Launched,
}

impl ClusterNode {
    /// machined's local API socket, seen from the host.
    pub fn socket(&self) -> PathBuf {
        self.dirs.sockets().join("machine.sock")
    }

    /// Runs `basaltctl --socket <node socket> args…`: (exit code, stdout, stderr).
    pub fn local_ctl(&self, args: &[&str]) -> (i32, String, String) {
        run(Command::new(config::basaltctl())
            .arg("--socket")
            .arg(self.socket())
            .args(args))
    }

    /// IPv4 addresses of the node's network namespace (read from a thread that joins it).
    pub fn addresses(&self) -> Vec<(String, IpAddr)> {
        let ns = std::fs::File::open(format!("/proc/{}/ns/net", self.launched.machined)).unwrap();
        std::thread::spawn(move || {
            nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            nix::ifaddrs::getifaddrs()
                .unwrap()
                .filter_map(|ifa| {
                    let ip = ifa.address?.as_sockaddr_in()?.ip();
                    Some((ifa.interface_name, IpAddr::V4(ip)))
                })
                .collect()
        })
        .join()
        .unwrap()
    }

    /// Kills the node hard: SIGKILL to its PID 1 takes every process of the node with it.
    pub fn kill(&mut self) {
        let _ = kill(Pid::from_raw(self.launched.machined), Signal::SIGKILL);
        let _ = wait_exit(&mut self.launched, Duration::from_secs(30));
    }
}

/// A running cluster and its network.
pub struct Cluster {
    /// `controlplane.yaml`, `worker.yaml`, `basaltconfig` (admin) of this cluster.
    pub secrets: tempfile::TempDir,
    /// The nodes, in order.
    pub nodes: Vec<ClusterNode>,
    /// The test network (dropped after the nodes).
    pub switch: Switch,
}

impl Cluster {
    /// Starts `n` control-plane nodes, each with the image services `services(k, cluster ips)`,
    /// and waits until every node finished booting.
    pub fn start(
        n: usize,
        services: impl Fn(usize, &[Ipv4Addr]) -> Vec<(String, String)>,
    ) -> Cluster {
        let switch = Switch::create();
        let secrets = tempfile::tempdir().unwrap();
        let mut cluster = Cluster {
            secrets,
            nodes: Vec::new(),
            switch,
        };
        let ips: Vec<Ipv4Addr> = (0..n).map(|k| cluster.switch.node_ip(k)).collect();
        config::generate(cluster.secrets.path(), &ips[0].to_string());
        for (k, ip) in ips.iter().enumerate() {
            let name = format!("node-{k}");
            let owned = services(k, &ips);
            let borrowed: Vec<(&str, &str)> = owned
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let dirs = build_node_with(&borrowed);
            if !owned.is_empty() {
                install(
                    &dirs.root(),
                    std::path::Path::new("/usr/bin/perl"),
                    "/usr/bin/perl",
                );
            }
            let yaml = config::node_config(cluster.secrets.path(), &name, &format!("{ip}/24"));
            std::fs::write(dirs.state().join("config.yaml"), yaml).unwrap();
            let launched = Launched::start(&dirs, &["--hostname", &name]);
            cluster.switch.attach(k, launched.machined);
            cluster.nodes.push(ClusterNode {
                name,
                ip: *ip,
                dirs,
                launched,
            });
        }
        for node in &cluster.nodes {
            node.launched.wait_for_line("boot sequence done", 1);
        }
        cluster
    }

    /// The admin client config written by `gen config`.
    pub fn basaltconfig(&self) -> PathBuf {
        self.secrets.path().join("basaltconfig")
    }

    /// Runs `basaltctl --basaltconfig <admin config> args…`: (exit code, stdout, stderr).
    pub fn ctl(&self, args: &[&str]) -> (i32, String, String) {
        run(Command::new(config::basaltctl())
            .arg("--basaltconfig")
            .arg(self.basaltconfig())
            .args(args))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &self.nodes {
            let launcher = Pid::from_raw(node.launched.child.id() as i32);
            let _ = kill(launcher, Signal::SIGTERM);
        }
        for node in &mut self.nodes {
            if !wait_exit(&mut node.launched, Duration::from_secs(60)) {
                eprintln!(
                    "cluster teardown: {} did not shut down in 60 s; killing it",
                    node.name
                );
                let _ = kill(Pid::from_raw(node.launched.machined), Signal::SIGKILL);
                let _ = node.launched.child.kill();
                let _ = node.launched.child.wait();
            }
        }
        // `switch` drops after this: namespace and links go away.
    }
}

/// Waits up to `limit` for the launcher to exit; `true` when it did.
fn wait_exit(launched: &mut Launched, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        match launched.child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    false
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
