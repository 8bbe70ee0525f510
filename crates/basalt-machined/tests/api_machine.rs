//! MachineService over a real socket: version, hostname, services with real processes,
//! events, power requests, bad requests and garbage on the socket.
#![allow(clippy::unwrap_used)]

mod api_support;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

use api_support::{connect, sh, within, Node};
use basalt_api::machine::{self as m, service_state_event::Action};
use basalt_machined::events::{MachineEvent, SequenceAction};
use basalt_machined::machine::resources::{self, HostnameSpec, HOSTNAME_ID};
use basalt_resources::Resource;
use tonic::Code;

/// The pid from the newest "started, pid N" record of a listed service.
fn pid_of(info: &m::ServiceInfo) -> i32 {
    let record = info
        .events
        .as_ref()
        .unwrap()
        .events
        .iter()
        .rev()
        .find(|e| e.msg.starts_with("started, pid "))
        .unwrap_or_else(|| panic!("no start record in {info:?}"));
    record.msg["started, pid ".len()..].parse().unwrap()
}

async fn service(node: &Node, id: &str) -> m::ServiceInfo {
    let list = node.machine().service_list(()).await.unwrap().into_inner();
    let services = &list.messages[0].services;
    services.iter().find(|s| s.id == id).unwrap().clone()
}

async fn wait_state(node: &Node, id: &str, state: &str) -> m::ServiceInfo {
    within(&format!("{id} to be {state}"), async {
        loop {
            let info = service(node, id).await;
            if info.state == state {
                return info;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_and_hostname_carry_metadata() {
    let node = Node::start().await;
    resources::register(&node.store).unwrap();
    let spec = HostnameSpec {
        hostname: "node-7".into(),
        domainname: String::new(),
    };
    node.store
        .create("machined", Resource::from_spec(HOSTNAME_ID, &spec).unwrap())
        .unwrap();
    let mut client = node.machine();
    let v = client
        .version(())
        .await
        .unwrap()
        .into_inner()
        .messages
        .remove(0);
    assert_eq!(v.metadata.unwrap().hostname, "node-7");
    let info = v.version.unwrap();
    assert_eq!(info.tag, format!("v{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(info.go_version, "rustc");
    assert_eq!(info.os, "linux");
    let go_arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    assert_eq!(info.arch, go_arch);
    assert_eq!(v.platform.unwrap().name, "container");
    let h = client
        .hostname(())
        .await
        .unwrap()
        .into_inner()
        .messages
        .remove(0);
    assert_eq!(h.hostname, "node-7");
    assert_eq!(h.metadata.unwrap().hostname, "node-7");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_list_start_stop_restart_with_real_processes() {
    let node = Node::start().await;
    node.supervisor.load(sh("web", "exec sleep 1000")).unwrap();
    node.supervisor.load(sh("idle", "exec sleep 1000")).unwrap();
    let mut client = node.machine();

    let list = client.service_list(()).await.unwrap().into_inner();
    let states: Vec<(String, String)> = list.messages[0]
        .services
        .iter()
        .map(|s| (s.id.clone(), s.state.clone()))
        .collect();
    assert_eq!(
        states,
        [
            ("idle".into(), "Initialized".into()),
            ("web".into(), "Initialized".into())
        ]
    );
    assert!(list.messages[0].metadata.is_some());

    let started = client
        .service_start(m::ServiceStartRequest { id: "web".into() })
        .await
        .unwrap()
        .into_inner();
    assert!(started.messages[0].resp.contains("web"));
    let info = wait_state(&node, "web", "Running").await;
    let old_pid = pid_of(&info);
    assert!(std::path::Path::new(&format!("/proc/{old_pid}")).exists());
    assert!(info.health.unwrap().unknown);

    // Restart: a new process, the old one gone, and the transitions on the event stream.
    let mut events = client
        .events(m::EventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    client
        .service_restart(m::ServiceRestartRequest { id: "web".into() })
        .await
        .unwrap();
    let info = wait_state(&node, "web", "Running").await;
    let new_pid = pid_of(&info);
    assert_ne!(new_pid, old_pid);
    assert!(std::path::Path::new(&format!("/proc/{new_pid}")).exists());
    within("the old process to be gone", async {
        while std::path::Path::new(&format!("/proc/{old_pid}")).exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let mut actions = Vec::new();
    while actions.last() != Some(&Action::Running) {
        let event = within("a service event", events.message())
            .await
            .unwrap()
            .unwrap();
        let any = event.data.unwrap();
        assert_eq!(any.type_url, "talos/runtime/machine.ServiceStateEvent");
        let payload: m::ServiceStateEvent = any.to_msg().unwrap();
        assert_eq!(payload.service, "web");
        actions.push(Action::try_from(payload.action).unwrap());
    }
    assert_eq!(actions.first(), Some(&Action::Stopping), "{actions:?}");
    assert!(actions.contains(&Action::Starting), "{actions:?}");

    client
        .service_stop(m::ServiceStopRequest { id: "web".into() })
        .await
        .unwrap();
    assert!(!std::path::Path::new(&format!("/proc/{new_pid}")).exists());
    assert_eq!(service(&node, "web").await.state, "Finished");

    // Unknown services are NOT_FOUND naming the known ones.
    let err = client
        .service_restart(m::ServiceRestartRequest { id: "nope".into() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("idle, web"), "{}", err.message());
    let err = client
        .service_start(m::ServiceStartRequest { id: String::new() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    node.stop().await;
}

fn sequence(name: &str) -> MachineEvent {
    MachineEvent::Sequence {
        sequence: name.into(),
        action: SequenceAction::Start,
        error: None,
    }
}

fn sequence_name(event: &m::Event) -> String {
    let payload: m::SequenceEvent = event.data.as_ref().unwrap().to_msg().unwrap();
    payload.sequence
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_replay_with_tail_and_tail_id_then_follow() {
    let node = Node::start().await;
    for name in ["a", "b", "c"] {
        node.bus.publish(sequence(name));
    }
    let mut client = node.machine();

    // tail_events 2: the last two, then live ones.
    let mut tail = client
        .events(m::EventsRequest {
            tail_events: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let b = within("b", tail.message()).await.unwrap().unwrap();
    assert_eq!(sequence_name(&b), "b");
    assert_eq!(
        b.data.as_ref().unwrap().type_url,
        "talos/runtime/machine.SequenceEvent"
    );
    assert!(b.metadata.is_some());
    assert_eq!(
        sequence_name(&within("c", tail.message()).await.unwrap().unwrap()),
        "c"
    );
    node.bus.publish(sequence("d"));
    assert_eq!(
        sequence_name(&within("d", tail.message()).await.unwrap().unwrap()),
        "d"
    );

    // tail_id: everything after that id; -1: everything kept.
    let mut after_b = client
        .events(m::EventsRequest {
            tail_id: b.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        sequence_name(&within("c", after_b.message()).await.unwrap().unwrap()),
        "c"
    );
    assert_eq!(
        sequence_name(&within("d", after_b.message()).await.unwrap().unwrap()),
        "d"
    );
    let mut all = client
        .events(m::EventsRequest {
            tail_events: -1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let first = within("a", all.message()).await.unwrap().unwrap();
    assert_eq!(sequence_name(&first), "a");
    assert!(first.id < b.id, "ids sort in publication order");

    let err = client
        .events(m::EventsRequest {
            tail_id: "not-an-id".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reboot_and_shutdown_reach_power_control() {
    let node = Node::start().await;
    let mut client = node.machine();
    let reply = client
        .reboot(m::RebootRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(reply.messages[0].metadata.is_some());
    client
        .shutdown(m::ShutdownRequest { force: false })
        .await
        .unwrap();
    client
        .shutdown(m::ShutdownRequest { force: true })
        .await
        .unwrap();
    assert_eq!(node.power.reboots.load(Ordering::SeqCst), 1);
    assert_eq!(node.power.shutdowns.load(Ordering::SeqCst), 2);

    node.power.locked.store(true, Ordering::SeqCst);
    let err = client
        .reboot(m::RebootRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    assert!(err.message().contains("locked"), "{}", err.message());
    assert_eq!(node.power.reboots.load(Ordering::SeqCst), 1);
    let err = client
        .reboot(m::RebootRequest { mode: 9 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_oversized_requests_leave_the_server_serving() {
    let node = Node::start().await;
    // Raw garbage, a truncated HTTP/2 preface, and an abrupt close.
    for junk in [
        &b"\x00\x01garbage\xff\xfe"[..],
        b"PRI * HTTP/2.0\r\n\r\nSM",
        &[0u8; 70_000],
    ] {
        let sock = node.sock.clone();
        tokio::task::spawn_blocking(move || {
            let mut stream = std::os::unix::net::UnixStream::connect(sock).unwrap();
            let _ = stream.write_all(junk);
        })
        .await
        .unwrap();
    }
    let huge = "x".repeat(5 * 1024 * 1024);
    let err = node
        .machine()
        .service_start(m::ServiceStartRequest { id: huge })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");
    // A fresh connection still works.
    let mut client =
        m::machine_service_client::MachineServiceClient::new(connect(&node.sock).await);
    client.version(()).await.unwrap();
    node.stop().await;
}
