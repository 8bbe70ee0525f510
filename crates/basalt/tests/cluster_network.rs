//! Three networked container nodes, as root: machined configures each node's `eth0` from
//! `machine.network.interfaces` and publishes it as an AddressStatus; the host reaches a TCP
//! listener on every node, and every node reaches the listeners of the other two; a reboot in
//! place configures it again. Dropping the cluster removes the test network.

#![allow(clippy::unwrap_used)]

mod cluster_support;

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use cluster_support::launch::eventually;
use cluster_support::net::ip;
use cluster_support::Cluster;

/// A TCP listener on 0.0.0.0:7001 (perl builtins only): accepts and closes connections.
const LISTENER: &str = r#"name: listener
command:
  - /usr/bin/perl
  - -e
  - 'socket(S, 2, 1, 6) or die "socket: $!"; setsockopt(S, 1, 2, pack("l", 1)); bind(S, pack("S n C4 x8", 2, 7001, 0, 0, 0, 0)) or die "bind: $!"; listen(S, 16) or die "listen: $!"; $| = 1; print "listening\n"; while (accept(C, S)) { close(C) }'
stopTimeout: 3s
"#;

/// Connects to port 7001 of every address given as argument until each answered once,
/// printing `reached <ip>`; then idles.
const PROBER_SCRIPT: &str = r#"$| = 1; my %left = map { $_ => 1 } @ARGV; while (%left) { for my $ip (keys %left) { socket(S, 2, 1, 6) or die "socket: $!"; if (connect(S, pack("S n C4 x8", 2, 7001, split(/\./, $ip)))) { print "reached $ip\n"; delete $left{$ip} } close(S) } select(undef, undef, undef, 0.2) } print "reached all\n"; select(undef, undef, undef, 100000)"#;

fn services(k: usize, ips: &[Ipv4Addr]) -> Vec<(String, String)> {
    let peers: Vec<String> = ips
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != k)
        .map(|(_, ip)| format!("\"{ip}\""))
        .collect();
    let prober = format!(
        "name: prober\ncommand: [/usr/bin/perl, -e, '{PROBER_SCRIPT}', {}]\nstopTimeout: 3s\n",
        peers.join(", ")
    );
    vec![
        ("listener".into(), LISTENER.into()),
        ("prober".into(), prober),
    ]
}

#[test]
fn three_nodes_get_their_addresses_and_reach_each_other() {
    let cluster = Cluster::start(3, services);
    let (ns, host_if) = (cluster.switch.ns.clone(), cluster.switch.host_if.clone());

    for node in &cluster.nodes {
        // eth0 carries the configured address, seen from inside the node's namespace.
        let addrs = node.addresses();
        assert!(
            addrs.contains(&("eth0".to_string(), node.ip.into())),
            "{}: eth0 lacks {}: {addrs:?}",
            node.name,
            node.ip
        );
        // machined published it: `get addresses` (alias) lists eth0/<ip>/24.
        let (code, out, err) = node.local_ctl(&["get", "addresses"]);
        assert_eq!(code, 0, "{}: get addresses failed: {err}", node.name);
        let id = format!("eth0/{}/24", node.ip);
        assert!(out.contains(&id), "{}: no {id} in:\n{out}", node.name);
        // The member resource carries the node's address (identity runs after interfaces).
        let (_, members, _) = node.local_ctl(&["get", "members"]);
        assert!(
            members.contains(&node.ip.to_string()),
            "{}: member lacks its address:\n{members}",
            node.name
        );
    }

    // The host reaches every node.
    for node in &cluster.nodes {
        let addr = SocketAddr::from((node.ip, 7001));
        eventually(&format!("the host connects to {addr}"), || {
            TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
        });
    }

    // Every node reaches the other two (each prober reports both peers).
    for node in &cluster.nodes {
        eventually(&format!("{} reaches its peers", node.name), || {
            let (_, out, _) = node.local_ctl(&["logs", "prober"]);
            out.contains("reached all")
        });
        let (_, out, _) = node.local_ctl(&["logs", "prober"]);
        for peer in cluster.nodes.iter().filter(|p| p.name != node.name) {
            assert!(
                out.contains(&format!("reached {}", peer.ip)),
                "{} -> {}:\n{out}",
                node.name,
                peer.name
            );
        }
    }

    // A reboot in place configures eth0 again (already there: EEXIST counts as done).
    let first = &cluster.nodes[0];
    let (code, _, err) = first.local_ctl(&["reboot"]);
    assert_eq!(code, 0, "reboot failed: {err}");
    first.launched.wait_for_line("sequence reboot: done", 1);
    let id = format!("eth0/{}/24", first.ip);
    let (_, out, _) = first.local_ctl(&["get", "addresses"]);
    assert!(out.contains(&id), "after reboot: no {id} in:\n{out}");
    let configured = first
        .launched
        .console
        .lock()
        .unwrap()
        .iter()
        .filter(|l| {
            l.contains(&format!(
                "network: eth0 is up with addresses [{}/24]",
                first.ip
            ))
        })
        .count();
    assert_eq!(configured, 2, "eth0 configured at boot and at reboot");

    // Teardown removes the switch namespace and the host's link.
    drop(cluster);
    let namespaces = ip(&["netns", "list"]).unwrap();
    assert!(!namespaces.contains(&ns), "{ns} left behind:\n{namespaces}");
    assert!(
        ip(&["link", "show", &host_if]).is_err(),
        "{host_if} left behind"
    );
}
