//! apid across three networked container nodes, as root, with the real `basaltctl` (admin
//! client config from `gen config`):
//!
//! - `-e A -n B version` is forwarded by A to B and answered by B;
//! - `-n A,B,C` fans out from A and labels every reply with its node;
//! - a call carrying `proxyfrom` is served locally even with `nodes` naming another node, and a
//!   target naming the endpoint itself by `ip:port` comes back once: forwarding cannot loop;
//! - with C killed, A and B still answer and C's entry carries the error.

#![allow(clippy::unwrap_used)]

mod cluster_support;

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use cluster_support::launch::eventually;
use cluster_support::{config, Cluster, ClusterNode};

/// The `Server:` lines of `version --short` (`\t<node>: basalt <tag>`), trimmed.
fn server_lines(out: &str) -> Vec<String> {
    out.split("Server:")
        .nth(1)
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `line` is labelled with `node` (by the target as written, its IP, or its name).
fn labelled(line: &str, node: &ClusterNode) -> bool {
    let label = line.split(": ").next().unwrap_or("");
    label == node.ip.to_string() || label == node.name
}

/// Calls `method` (an empty request) on `node`'s apid with raw gRPC over HTTP/2 + mTLS
/// (curl), with extra metadata `headers`; returns the response body bytes.
fn raw_call(cluster: &Cluster, node: &ClusterNode, method: &str, headers: &[&str]) -> Vec<u8> {
    let dir = cluster.secrets.path();
    let (ca, crt, key) = config::client_files(dir, "admin-raw", &["os:admin"]);
    let frame = dir.join("empty.grpc");
    std::fs::write(&frame, [0u8; 5]).unwrap();
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--http2", "--tlsv1.3", "--max-time", "30"])
        .arg("--cacert")
        .arg(&ca)
        .arg("--cert")
        .arg(&crt)
        .arg("--key")
        .arg(&key)
        .args(["-H", "content-type: application/grpc", "-H", "te: trailers"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd
        .arg("--data-binary")
        .arg(format!("@{}", frame.display()))
        .arg(format!("https://{}:50000{method}", node.ip))
        .output()
        .expect("curl is needed for the raw gRPC call");
    assert!(
        out.status.success(),
        "curl {method} to {} failed: {}",
        node.name,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn apid_forwards_fans_out_survives_a_dead_node_and_never_loops() {
    let mut cluster = Cluster::start(3, |_, _| Vec::new());
    for node in &cluster.nodes {
        let addr = SocketAddr::from((node.ip, 50000));
        eventually(&format!("apid listens on {addr}"), || {
            TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
        });
    }
    let [a, b, c] = [0, 1, 2].map(|k| cluster.nodes[k].ip.to_string());

    // One-to-one through A: B answers.
    let (code, out, err) = cluster.ctl(&["-e", &a, "-n", &b, "version", "--short"]);
    assert_eq!(code, 0, "forwarded version failed: {err}\n{out}");
    let lines = server_lines(&out);
    assert_eq!(lines.len(), 1, "{out}");
    assert!(labelled(&lines[0], &cluster.nodes[1]), "{out}");
    let (_, host, _) = cluster.ctl(&["-e", &a, "-n", &b, "get", "hostname"]);
    assert!(host.contains("node-1"), "the call reached B:\n{host}");

    // Fan-out through A: one labelled reply per node.
    let all = format!("{a},{b},{c}");
    let (code, out, err) = cluster.ctl(&["-e", &a, "-n", &all, "version", "--short"]);
    assert_eq!(code, 0, "fan-out failed: {err}\n{out}");
    let lines = server_lines(&out);
    assert_eq!(lines.len(), 3, "{out}");
    for node in &cluster.nodes {
        assert!(
            lines.iter().any(|l| labelled(l, node)),
            "no reply labelled {} in:\n{out}",
            node.name
        );
    }

    // No loop: `proxyfrom` makes A answer itself even though `nodes` names B ...
    let body = raw_call(
        &cluster,
        &cluster.nodes[0],
        "/machine.MachineService/Hostname",
        &[&format!("nodes: {b}"), "proxyfrom: node-9"],
    );
    assert!(
        contains(&body, "node-0"),
        "A did not answer itself: {body:?}"
    );
    assert!(
        !contains(&body, "node-1"),
        "A forwarded a proxied call: {body:?}"
    );
    // ... and a target naming A itself by ip:port comes back exactly once.
    let self_and_b = format!("{a}:50000,{b}");
    let (code, out, err) = cluster.ctl(&["-e", &a, "-n", &self_and_b, "version", "--short"]);
    assert_eq!(code, 0, "self-target failed: {err}\n{out}");
    assert_eq!(server_lines(&out).len(), 2, "{out}");

    // C dies: A and B still answer, C's entry carries the error.
    cluster.nodes[2].kill();
    let (code, out, err) = cluster.ctl(&["-e", &a, "-n", &all, "version", "--short"]);
    assert_eq!(code, 1, "a dead node fails the command:\n{out}\n{err}");
    let lines = server_lines(&out);
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines.iter().any(|l| labelled(l, &cluster.nodes[0])),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| labelled(l, &cluster.nodes[1])),
        "{out}"
    );
    let c_error = err
        .lines()
        .find(|l| l.starts_with(&format!("{c}: error:")))
        .unwrap_or_else(|| panic!("no error entry for C ({c}):\n{err}"));
    assert!(c_error.len() > format!("{c}: error: ").len(), "{c_error}");
}
