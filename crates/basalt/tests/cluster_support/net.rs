//! The test network: a "switch" network namespace holding a bridge, one veth per node (the
//! node end created directly inside the node's network namespace as `eth0`) and one veth to
//! the host, whose host end carries `10.231.<octet>.1/24`. The octet is unique per switch,
//! so concurrent clusters do not clash. Dropping the switch deletes all of it.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Serializes subnet picking inside one test process.
static PICK: Mutex<()> = Mutex::new(());

/// Runs `ip args…`; `Err` carries the command and its stderr.
pub fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip (install iproute2): {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Runs `ip args…` and panics with its error.
fn ip_ok(args: &[&str]) -> String {
    ip(args).unwrap_or_else(|e| panic!("{e}"))
}

/// One test network. Deleted on drop.
#[derive(Debug)]
pub struct Switch {
    /// Third octet of the subnet `10.231.<octet>.0/24`.
    pub octet: u8,
    /// Name of the switch network namespace.
    pub ns: String,
    /// The host's interface into the switch.
    pub host_if: String,
}

impl Switch {
    /// Creates the switch namespace, its bridge and the host's link into it.
    pub fn create() -> Switch {
        let _guard = PICK.lock().unwrap_or_else(|e| e.into_inner());
        let octet = free_octet();
        let switch = Switch {
            octet,
            ns: format!("basalt{octet}-{}-sw", std::process::id()),
            host_if: format!("bh{octet}"),
        };
        let ns = switch.ns.as_str();
        let peer = format!("bs{octet}");
        let host_cidr = format!("{}/24", switch.host_ip());
        ip_ok(&["netns", "add", ns]);
        ip_ok(&["-n", ns, "link", "set", "lo", "up"]);
        ip_ok(&["-n", ns, "link", "add", "br0", "type", "bridge"]);
        ip_ok(&["-n", ns, "link", "set", "br0", "up"]);
        ip_ok(&[
            "link",
            "add",
            &switch.host_if,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
            "netns",
            ns,
        ]);
        ip_ok(&["-n", ns, "link", "set", &peer, "master", "br0", "up"]);
        ip_ok(&["addr", "add", &host_cidr, "dev", &switch.host_if]);
        ip_ok(&["link", "set", &switch.host_if, "up"]);
        switch
    }

    /// The host's address on the switch (`.1`).
    pub fn host_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 231, self.octet, 1)
    }

    /// The address of node `k` (0-based): `.10 + k`.
    pub fn node_ip(&self, k: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 231, self.octet, 10 + u8::try_from(k).unwrap())
    }

    /// Plugs node `k`, whose network namespace is that of `pid`, into the switch: a veth
    /// whose node end appears in the node as `eth0` (machined configures it).
    pub fn attach(&self, k: usize, pid: i32) {
        let port = format!("bp{}n{k}", self.octet);
        let pid = pid.to_string();
        ip_ok(&[
            "link", "add", &port, "netns", &self.ns, "type", "veth", "peer", "name", "eth0",
            "netns", &pid,
        ]);
        ip_ok(&["-n", &self.ns, "link", "set", &port, "master", "br0", "up"]);
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        // Deleting the namespace deletes the bridge and every veth with an end in it.
        if let Err(e) = ip(&["netns", "del", &self.ns]) {
            eprintln!("cluster teardown: {e}");
        }
        let _ = ip(&["link", "del", &self.host_if]);
    }
}

/// An octet whose subnet and link names are unused on this host.
fn free_octet() -> u8 {
    let addrs = ip(&["-o", "addr", "show"]).unwrap_or_else(|e| panic!("{e}"));
    let links = ip(&["-o", "link", "show"]).unwrap_or_else(|e| panic!("{e}"));
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        .wrapping_add(std::process::id());
    for i in 0..240u32 {
        let octet = u8::try_from(10 + (seed.wrapping_add(i * 7)) % 240).unwrap();
        let taken = addrs.contains(&format!("10.231.{octet}."))
            || links.contains(&format!(" bh{octet}:"))
            || links.contains(&format!(" bh{octet}@"));
        if !taken {
            return octet;
        }
    }
    panic!("no free subnet 10.231.x.0/24 on this host; delete stale bh* links (ip link del bhN)")
}
