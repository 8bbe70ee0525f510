//! `basaltctl --socket` one-shot commands against a real machined API server in this process
//! (real store, supervisor and `sh -c` services): version, services, service actions, get,
//! reboot/shutdown, and the errors for unknown services/types and missing sockets.
#![allow(clippy::unwrap_used)]

mod socket_support;

use std::process::Command;

use basalt_machined::process::Reaper;
use basalt_machined::supervisor::ServiceState;
use socket_support::{hostname, run_command, sh, Node};

async fn two_services() -> Node {
    let node = Node::start(vec![
        sh("counter", "echo one; echo two; echo three; exec sleep 1000"),
        sh("web", "exec sleep 1000"),
    ])
    .await;
    node.wait_state("counter", ServiceState::Running).await;
    node.wait_state("web", ServiceState::Running).await;
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_shows_client_and_server() {
    let node = Node::start(vec![]).await;
    let out = node.run(&["version"]).await;
    let text = out.ok();
    assert!(text.starts_with("Client:\n\tTag:      v"), "{text}");
    assert!(
        text.contains(&format!(
            "Server:\n\tNODE:     {}\n\tTag:      v",
            hostname()
        )),
        "{text}"
    );
    assert!(text.contains("\tPlatform: container\n"), "{text}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_table_status_and_restart() {
    let node = two_services().await;
    let host = hostname();

    let text = node.run(&["services"]).await.ok().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("NODE") && lines[0].contains("SERVICE   STATE     HEALTH"),
        "{text}"
    );
    assert!(lines[0].ends_with("LAST CHANGE   LAST EVENT"), "{text}");
    let row = |id: &str| {
        lines
            .iter()
            .find(|l| l.split_whitespace().nth(1) == Some(id))
            .unwrap_or_else(|| panic!("no row for {id}: {text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    for id in ["counter", "web"] {
        let cells = row(id);
        assert_eq!(&cells[..4], [host.as_str(), id, "Running", "?"], "{text}");
        assert!(cells[4].ends_with('s') && cells[5] == "ago", "{text}");
    }

    // `service ID` (status) shows the events, newest first.
    let status = node.run(&["service", "web"]).await.ok().to_string();
    assert!(
        status.starts_with(&format!(
            "NODE     {host}\nID       web\nSTATE    Running\n"
        )),
        "{status}"
    );
    assert!(status.contains("EVENTS   [Running]"), "{status}");

    // Restart: a new process, and the table answer names the node.
    let before = node.supervisor.info("web").unwrap().events.len();
    let out = node.run(&["service", "web", "restart"]).await;
    let text = out.ok();
    assert!(text.starts_with("NODE"), "{text}");
    assert!(text.lines().nth(1).unwrap().starts_with(&host), "{text}");
    let info = node
        .wait_service("web", |i| {
            i.state == ServiceState::Running && i.events.len() > before
        })
        .await;
    assert!(
        info.events[before..]
            .iter()
            .any(|e| e.state == ServiceState::Stopping),
        "restart did not stop the service: {:#?}",
        info.events
    );

    // stop, then start again.
    node.run(&["service", "web", "stop"]).await.ok();
    assert_ne!(
        node.supervisor.info("web").unwrap().state,
        ServiceState::Running
    );
    node.run(&["service", "web", "start"]).await.ok();
    node.wait_state("web", ServiceState::Running).await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_service_is_one_clear_error_line() {
    let node = two_services().await;
    let err = node.run(&["service", "nope", "restart"]).await;
    let line = err.fails();
    assert!(
        line.starts_with("error: cannot restart service \"nope\": "),
        "{line}"
    );
    assert!(line.ends_with("(NotFound)"), "{line}");

    let err = node.run(&["service", "nope"]).await;
    let line = err.fails();
    assert!(line.contains("service \"nope\" not found"), "{line}");
    assert!(line.contains("counter, web"), "{line}");

    let err = node.run(&["logs", "nope"]).await;
    let line = err.fails();
    assert!(
        line.starts_with("error: cannot read the logs of service \"nope\": "),
        "{line}"
    );
    assert!(line.ends_with("(NotFound)"), "{line}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_services_table_yaml_and_json() {
    let node = two_services().await;

    for name in ["svc", "services", "Services.v1alpha1.basalt.dev"] {
        let text = node.run(&["get", name]).await.ok().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            [
                "NODE",
                "NAMESPACE",
                "TYPE",
                "ID",
                "VERSION",
                "RUNNING",
                "HEALTHY",
                "HEALTH",
                "UNKNOWN"
            ],
            "{text}"
        );
        let web: Vec<&str> = lines
            .iter()
            .find(|l| l.split_whitespace().nth(3) == Some("web"))
            .unwrap_or_else(|| panic!("{text}"))
            .split_whitespace()
            .collect();
        assert_eq!(web[0], hostname(), "{text}");
        assert_eq!(web[1], "runtime", "{text}");
        assert_eq!(web[5], "true", "running: {text}");
        assert!(web[4].parse::<u64>().unwrap() >= 1, "{text}");
    }

    let yaml = node.run(&["get", "services", "web", "-o", "yaml"]).await;
    let doc: serde_yaml::Value = serde_yaml::from_str(yaml.ok()).unwrap();
    assert_eq!(doc["node"].as_str(), Some(hostname().as_str()));
    assert_eq!(doc["metadata"]["namespace"].as_str(), Some("runtime"));
    assert_eq!(
        doc["metadata"]["type"].as_str(),
        Some("Services.v1alpha1.basalt.dev")
    );
    assert_eq!(doc["metadata"]["id"].as_str(), Some("web"));
    assert_eq!(doc["metadata"]["phase"].as_str(), Some("running"));
    assert!(doc["metadata"]["version"].as_u64().unwrap() >= 1);
    assert_eq!(doc["spec"]["running"].as_bool(), Some(true));

    // JSON: one object per resource.
    let json = node.run(&["get", "svc", "-o", "json"]).await;
    let text = json.ok();
    let objects: Vec<serde_json::Value> = serde_json::Deserializer::from_str(text)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let ids: Vec<&str> = objects
        .iter()
        .map(|o| o["metadata"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["counter", "web"], "{text}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_unknown_type_or_id_is_a_clear_error() {
    let node = two_services().await;
    let err = node.run(&["get", "pods"]).await;
    let line = err.fails();
    assert!(
        line.starts_with("error: unknown resource type \"pods\"; known types: "),
        "{line}"
    );
    assert!(line.contains("Services.v1alpha1.basalt.dev"), "{line}");

    let err = node.run(&["get", "svc", "nope"]).await;
    let line = err.fails();
    assert!(
        line.starts_with("error: cannot get Services.v1alpha1.basalt.dev \"nope\""),
        "{line}"
    );
    assert!(line.ends_with("(NotFound)"), "{line}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reboot_and_shutdown_reach_the_sequencer_or_report_the_lock() {
    let node = Node::start(vec![]).await;
    let host = hostname();
    let out = node.run(&["reboot"]).await;
    assert_eq!(out.ok(), format!("{host}: reboot requested\n"));
    let out = node.run(&["shutdown", "--force"]).await;
    assert_eq!(out.ok(), format!("{host}: shutdown requested\n"));
    assert_eq!(*node.power.requests.lock().unwrap(), ["reboot", "shutdown"]);

    *node.power.locked.lock().unwrap() = true;
    let err = node.run(&["reboot"]).await;
    let line = err.fails();
    assert!(
        line.starts_with(&format!("error: cannot reboot {host}: ")),
        "{line}"
    );
    assert!(line.contains("locked"), "{line}");
    assert!(line.ends_with("(Aborted)"), "{line}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_absent_socket_says_what_to_check() {
    let reaper = Reaper::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("machine.sock");
    let bin = env!("CARGO_BIN_EXE_basaltctl");

    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .arg("--socket")
        .arg(&missing)
        .arg("services");
    let out = run_command(&reaper, piped(cmd)).await;
    let line = out.fails();
    assert!(line.contains(missing.to_str().unwrap()), "{line}");
    assert!(
        line.contains("does not exist: is machined running"),
        "{line}"
    );

    // The same path through $BASALT_SOCKET.
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("BASALT_SOCKET", &missing)
        .args(["get", "svc"]);
    let line = run_command(&reaper, piped(cmd)).await.fails().to_string();
    assert!(line.contains(missing.to_str().unwrap()), "{line}");

    // No socket and no client config: the network path says what is missing.
    let mut cmd = Command::new(bin);
    cmd.env_clear().env("HOME", dir.path()).arg("services");
    let line = run_command(&reaper, piped(cmd)).await.fails().to_string();
    assert!(
        line.starts_with("error: cannot reach the Basalt API: no context set in "),
        "{line}"
    );
}

fn piped(mut cmd: Command) -> Command {
    use std::process::Stdio;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}
