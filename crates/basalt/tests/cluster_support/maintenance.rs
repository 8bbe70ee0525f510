//! A one-node cluster whose node is launched WITHOUT a config: machined waits in maintenance
//! mode and runs apid `--maintenance`. Nothing configures `eth0` in maintenance mode (no
//! DHCP yet), so the test gives it the address the node's config will name, from the host.

use std::process::Command;

use super::config;
use super::launch::{build_node_with, Launched};
use super::{Cluster, ClusterNode, Switch};

/// The console line apid prints in maintenance mode, up to the fingerprint.
pub const FINGERPRINT_LINE: &str = "maintenance mode: apid certificate fingerprint ";

impl Cluster {
    /// Starts one node (`node-0`) with no config and `launch_args` (e.g. `--maintenance-ca
    /// FILE`), plugged into the test network with its address set; waits until apid
    /// printed its certificate fingerprint. `secrets` holds the cluster's generated configs.
    pub fn start_maintenance(launch_args: &[&str]) -> Cluster {
        let switch = Switch::create();
        let secrets = tempfile::tempdir().unwrap();
        let ip = switch.node_ip(0);
        config::generate(secrets.path(), &ip.to_string());
        let dirs = build_node_with(&[]);
        let mut args = vec!["--hostname", "node-0"];
        args.extend_from_slice(launch_args);
        let launched = Launched::start(&dirs, &args);
        switch.attach(0, launched.machined);
        set_address(launched.machined, &format!("{ip}/24"));
        launched.wait_for_line(FINGERPRINT_LINE, 1);
        Cluster {
            secrets,
            nodes: vec![ClusterNode {
                name: "node-0".into(),
                ip,
                dirs,
                launched,
            }],
            switch,
        }
    }

    /// The config for the maintenance node (`node-0`, its address on `eth0`).
    pub fn maintenance_node_config(&self) -> String {
        let node = &self.nodes[0];
        config::node_config(self.secrets.path(), &node.name, &format!("{}/24", node.ip))
    }
}

impl ClusterNode {
    /// The `sha256:<hex>` fingerprint apid printed on the console (maintenance mode).
    pub fn fingerprint(&self) -> String {
        let console = self.launched.console.lock().unwrap();
        let line = console
            .iter()
            .find(|l| l.contains(FINGERPRINT_LINE))
            .expect("apid printed no certificate fingerprint");
        let (_, fingerprint) = line.split_once(FINGERPRINT_LINE).unwrap();
        fingerprint.trim().to_string()
    }
}

/// Adds `cidr` to `eth0` of the network namespace of `pid` and sets the link up.
fn set_address(pid: i32, cidr: &str) {
    let netns = format!("--net=/proc/{pid}/ns/net");
    for args in [
        vec!["ip", "addr", "add", cidr, "dev", "eth0"],
        vec!["ip", "link", "set", "eth0", "up"],
    ] {
        let out = Command::new("nsenter")
            .arg(&netns)
            .args(&args)
            .output()
            .expect("nsenter (util-linux) is needed to address a maintenance node");
        assert!(
            out.status.success(),
            "nsenter {netns} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
