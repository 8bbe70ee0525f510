//! `basalt launch` for real (root, fresh namespaces): machined is PID 1 of the node, boots
//! from a config on STATE, runs an image service, reboots in place on SIGINT and shuts the
//! node down on SIGTERM leaving no process behind.

#![allow(clippy::unwrap_used)]

mod launch_support;

use launch_support::{
    bit, build_node, config_text, eventually, hostname_of, nspid, pid_namespace, processes_in,
    signal_mask, Launched,
};
use nix::sys::signal::Signal;

fn sleeper_pids(ns: &str) -> Vec<i32> {
    processes_in(ns)
        .into_iter()
        .filter(|(_, comm)| comm == "sleep")
        .map(|(pid, _)| pid)
        .collect()
}

#[test]
fn machined_boots_as_pid_1_reboots_in_place_and_shuts_down_cleanly() {
    let dirs = build_node();
    std::fs::write(dirs.state().join("config.yaml"), config_text()).unwrap();
    let mut node = Launched::start(&dirs, &["--hostname", "node-a"]);

    // machined is PID 1 of a new pid namespace, with the launcher's hostname
    let ids = nspid(node.machined);
    assert_eq!(ids, vec![node.machined, 1]);
    assert_eq!(hostname_of(node.machined), "node-a");
    let ns = pid_namespace(node.machined);
    assert_ne!(ns, pid_namespace(std::process::id() as i32));

    // boot: MachineStatus running (console marker), the image service runs inside the node
    node.wait_for_line("boot sequence done", 1);
    node.wait_for_line("machine config loaded from STATE", 1);
    let first = sleeper_pids(&ns);
    assert_eq!(first.len(), 1, "{:?}", processes_in(&ns));
    assert!(
        dirs.state().join("node-id").is_file(),
        "STATE is the host's --state dir"
    );
    // PID-1 hygiene seen from the host: SIGPIPE ignored, SIGTERM/SIGINT not blocked in
    // machined, and nothing blocked in the service it spawned
    assert_ne!(
        signal_mask(node.machined, "SigIgn") & bit(Signal::SIGPIPE),
        0
    );
    let term_int = bit(Signal::SIGTERM) | bit(Signal::SIGINT);
    assert_eq!(signal_mask(node.machined, "SigBlk") & term_int, 0);
    assert_eq!(
        signal_mask(first[0], "SigBlk"),
        0,
        "service inherited a blocked mask"
    );
    assert!(
        dirs.ephemeral().join("log").is_dir(),
        "EPHEMERAL is the host's --ephemeral dir"
    );

    // SIGINT: reboot in place; the service is started again, machined stays PID 1
    node.signal(Signal::SIGINT);
    node.wait_for_line("sequence reboot: done", 1);
    eventually("the service restarted after reboot", || {
        let now = sleeper_pids(&ns);
        now.len() == 1 && now != first
    });
    assert_eq!(nspid(node.machined), vec![node.machined, 1]);

    // SIGTERM: shutdown; the launcher exits 0 and nothing of the namespace survives
    node.signal(Signal::SIGTERM);
    assert_eq!(node.wait_exit(), 0);
    let console = node.console.lock().unwrap().join("\n");
    assert!(console.contains("sequence shutdown: done"), "{console}");
    assert!(console.contains("machined exiting"), "{console}");
    assert_eq!(
        processes_in(&ns),
        vec![],
        "processes left in the node's pid namespace"
    );
}

#[test]
fn config_flag_is_copied_into_the_node_and_persisted_to_state() {
    let dirs = build_node();
    let config = dirs.tmp.path().join("controlplane.yaml");
    let text = config_text();
    std::fs::write(&config, &text).unwrap();
    let mut node = Launched::start(&dirs, &["--config", config.to_str().unwrap()]);
    node.wait_for_line("boot sequence done", 1);
    node.wait_for_line(
        "machine config loaded from basalt.config=/run/basalt/config.yaml",
        1,
    );
    assert_eq!(
        std::fs::read_to_string(dirs.state().join("config.yaml")).unwrap(),
        text
    );
    let ns = pid_namespace(node.machined);
    node.signal(Signal::SIGTERM);
    assert_eq!(node.wait_exit(), 0);
    assert_eq!(processes_in(&ns), vec![]);
}

#[test]
fn bad_root_is_refused_with_the_missing_entries() {
    let dirs = build_node();
    std::fs::remove_dir(dirs.root().join("var")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_basalt"))
        .arg("launch")
        .arg("--root")
        .arg(dirs.root())
        .arg("--state")
        .arg(dirs.state())
        .arg("--ephemeral")
        .arg(dirs.ephemeral())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing") && err.contains("/var"), "{err}");
}
