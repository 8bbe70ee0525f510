//! The RPCs the proto files declare, found by a simple scan of their text, so tests cover a
//! new RPC automatically.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `/package.Service/Method` for every `rpc` in `file` (a simple scan of the proto text).
pub fn rpcs_of(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join(file)).unwrap();
    let package = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("package "))
        .unwrap()
        .trim_end_matches(';')
        .to_string();
    let mut service = String::new();
    let mut rpcs = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("service ") {
            service = rest.split_whitespace().next().unwrap().to_string();
        } else if let Some(rest) = line.strip_prefix("rpc ") {
            let name = rest.split('(').next().unwrap().trim();
            rpcs.push(format!("/{package}.{service}/{name}"));
        }
    }
    rpcs
}

/// Every RPC of the services Basalt serves (`machine.MachineService`, `cosi.resource.State`,
/// `cluster.ClusterService`).
pub fn served_rpcs() -> Vec<String> {
    let mut rpcs = rpcs_of("api/machine/machine.proto");
    rpcs.extend(rpcs_of("api/cosi/state.proto"));
    rpcs.extend(rpcs_of("api/cluster/cluster.proto"));
    rpcs
}

/// `/machine.MachineService/Method` of every machine RPC whose reply is a stream
/// (`returns (stream …)`).
pub fn server_streaming_machine_rpcs() -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("api/machine/machine.proto")).unwrap();
    text.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("rpc "))
        .filter(|rest| rest.contains("returns (stream "))
        .map(|rest| {
            let name = rest.split('(').next().unwrap().trim();
            format!("/machine.MachineService/{name}")
        })
        .collect()
}
