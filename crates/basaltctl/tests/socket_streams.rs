//! `basaltctl --socket` streaming commands against a real machined API server in this process:
//! `logs` (tail, follow), `get -w` (transitions in order), `events` (tail, since-id, live).
//! Streams are read line by line from the real binary, which is then killed (as Ctrl-C would).
#![allow(clippy::unwrap_used)]

mod socket_support;

use basalt_machined::events::{MachineEvent, SequenceAction};
use basalt_machined::supervisor::ServiceState;
use socket_support::{sh, Node};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_tail_and_follow() {
    let node = Node::start(vec![
        sh("counter", "echo one; echo two; echo three; exec sleep 1000"),
        sh(
            "ticker",
            "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done",
        ),
    ])
    .await;
    node.wait_state("counter", ServiceState::Running).await;
    // Wait until the three lines are in the log.
    let mut all = String::new();
    for _ in 0..300 {
        all = node.run(&["logs", "counter"]).await.ok().to_string();
        if all.lines().count() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(all, "one\ntwo\nthree\n");
    assert_eq!(
        node.run(&["logs", "counter", "--tail", "2"]).await.ok(),
        "two\nthree\n"
    );
    assert_eq!(node.run(&["logs", "counter", "--tail", "0"]).await.ok(), "");

    // -f: the tail, then new lines as the service writes them, in order.
    let follow = node.stream(&["logs", "ticker", "-f", "--tail", "1"]);
    let first: u64 = follow
        .next_line()
        .strip_prefix("tick ")
        .unwrap()
        .parse()
        .unwrap();
    for expected in first + 1..first + 5 {
        assert_eq!(follow.next_line(), format!("tick {expected}"));
    }
    follow.kill().await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_watch_shows_each_transition_in_order() {
    let node = Node::start(vec![sh("web", "exec sleep 1000")]).await;
    node.wait_state("web", ServiceState::Running).await;

    let watch = node.stream(&["get", "svc", "-w"]);
    let header_line = watch.next_line();
    assert!(header_line.starts_with("NODE "), "{header_line}");
    let header: Vec<String> = header_line
        .split_whitespace()
        .skip(1) // NODE
        .map(String::from)
        .collect();
    assert_eq!(
        header,
        [
            "EVENT",
            "NAMESPACE",
            "TYPE",
            "ID",
            "VERSION",
            "RUNNING",
            "HEALTHY",
            "HEALTH",
            "UNKNOWN"
        ]
    );
    // Bootstrap: the current resource as created.
    let created: Vec<String> = watch
        .next_line()
        .split_whitespace()
        .skip(1) // NODE
        .map(String::from)
        .collect();
    assert_eq!(
        &created[..4],
        ["created", "runtime", "Service", "web"],
        "{created:?}"
    );
    assert_eq!(created[5], "true");
    let mut version: u64 = created[4].parse().unwrap();

    // A restart shows as updates: running goes false, then true again, versions in order.
    node.run(&["service", "web", "restart"]).await.ok();
    let mut running = Vec::new();
    while running.last().map(String::as_str) != Some("true") || running.len() < 2 {
        let cells: Vec<String> = watch
            .next_line()
            .split_whitespace()
            .skip(1) // NODE
            .map(String::from)
            .collect();
        assert_eq!(cells[0], "updated", "{cells:?}");
        assert_eq!(cells[3], "web", "{cells:?}");
        let next: u64 = cells[4].parse().unwrap();
        assert_eq!(next, version + 1, "versions arrive one by one: {cells:?}");
        version = next;
        running.push(cells[5].clone());
    }
    assert_eq!(
        running.first().map(String::as_str),
        Some("false"),
        "{running:?}"
    );
    watch.kill().await;

    // -o yaml watch of one resource: documents carrying the event.
    let watch = node.stream(&["get", "svc", "web", "-w", "-o", "yaml"]);
    let doc = watch.lines_until(|l| l.starts_with("spec:"));
    assert_eq!(doc[0], "event: created", "{doc:?}");
    assert!(doc.iter().any(|l| l.trim() == "id: web"), "{doc:?}");
    watch.kill().await;
    node.stop().await;
}

fn sequence(name: &str) -> MachineEvent {
    MachineEvent::Sequence {
        sequence: name.into(),
        action: SequenceAction::Start,
        error: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_tail_since_id_and_live() {
    let node = Node::start(vec![]).await;
    let ids: Vec<u64> = (1..=8)
        .map(|i| node.bus.publish(sequence(&format!("seq{i}"))))
        .collect();

    let events = node.stream(&["events", "--tail", "5"]);
    let header: Vec<String> = events
        .next_line()
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(
        header,
        ["NODE", "ID", "EVENT", "ACTOR", "SOURCE", "MESSAGE"]
    );
    let mut seen_ids = Vec::new();
    for i in 4..=8 {
        let line = events.next_line();
        let cells: Vec<&str> = line.split_whitespace().collect();
        // No actor id: NODE ID EVENT SOURCE MESSAGE.
        assert_eq!(
            &cells[2..],
            ["machine.SequenceEvent", &format!("seq{i}"), "START"],
            "{line}"
        );
        seen_ids.push(cells[1].to_string());
    }
    assert_eq!(
        seen_ids
            .iter()
            .map(|s| s.parse::<u64>().unwrap())
            .collect::<Vec<_>>(),
        ids[3..]
    );
    // Live events follow the tail.
    node.bus.publish(sequence("live"));
    assert!(events.next_line().contains(" live "), "live event missing");
    events.kill().await;

    // --since-id: the events after that id.
    let since = node.stream(&["events", "--since-id", &seen_ids[3]]);
    since.next_line();
    assert!(since.next_line().contains(" seq8 "));
    assert!(since.next_line().contains(" live "));
    since.kill().await;
    node.stop().await;
}
