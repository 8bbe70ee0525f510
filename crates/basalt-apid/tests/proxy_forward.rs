//! Forwarding between real nodes (each: machined's API + its own apid proxy on 127.0.0.1
//! over mutual TLS): `node` one-to-one, `nodes` fan-out with merged and tagged replies, a
//! node down, streaming fan-out, loop prevention, roles carried across.
#![allow(clippy::unwrap_used)]

mod proxy_support;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use basalt_api::common::{ContainerDriver, Metadata};
use basalt_api::cosi::resource as pb;
use basalt_api::machine::{EventsRequest, LogsRequest, RebootRequest};
use basalt_machined::machine::resources::{HostnameSpec, HOSTNAME_ID};
use basalt_resources::Spec as _;
use proxy_support::{machine, sh, state, with, within, Node, Pki};
use tonic::Code;

const READER: &[&str] = &["os:reader"];

fn hosts(metadata: impl IntoIterator<Item = Option<Metadata>>) -> Vec<(String, String)> {
    metadata
        .into_iter()
        .map(|m| {
            let m = m.unwrap();
            (m.hostname, m.error)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_forwards_one_call_and_carries_the_callers_roles() {
    let pki = Pki::new();
    let a = Node::start(&pki, "node-a").await;
    let b = Node::start(&pki, "node-b").await;
    let to_b = [("node", b.target())];
    let to_b: Vec<_> = to_b.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let mut reader = machine(&pki, &a, READER).await;
    let v = reader.version(with((), &to_b)).await.unwrap().into_inner();
    assert_eq!(
        hosts(v.messages.into_iter().map(|m| m.metadata)),
        [("node-b".into(), String::new())]
    );

    // COSI goes one-to-one too.
    let mut cosi = state(&pki, &a, READER).await;
    let get = pb::GetRequest {
        namespace: HostnameSpec::NAMESPACE.into(),
        r#type: HostnameSpec::TYPE.into(),
        id: HOSTNAME_ID.into(),
        options: None,
    };
    let r = cosi.get(with(get, &to_b)).await.unwrap().into_inner();
    assert!(r
        .resource
        .unwrap()
        .spec
        .unwrap()
        .yaml_spec
        .contains("node-b"));

    // A reader is refused at A; an operator's roles reach B (A's own certificate there is
    // only an impersonator, which alone may do nothing).
    let err = reader
        .reboot(with(RebootRequest::default(), &to_b))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let mut operator = machine(&pki, &a, &["os:operator"]).await;
    operator
        .reboot(with(RebootRequest::default(), &to_b))
        .await
        .unwrap();
    assert_eq!(b.power.reboots.load(Ordering::SeqCst), 1);
    assert_eq!(a.power.reboots.load(Ordering::SeqCst), 0);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_fan_out_merges_tagged_replies_and_survives_a_node_down() {
    let pki = Pki::new();
    let a = Node::start(&pki, "node-a").await;
    let b = Node::start(&pki, "node-b").await;
    let c = Node::start(&pki, "node-c").await;
    let all = format!("{},{},{}", a.target(), b.target(), c.target());
    let mut client = machine(&pki, &a, READER).await;

    let v = client
        .version(with((), &[("nodes", &all)]))
        .await
        .unwrap()
        .into_inner();
    let expected: Vec<(String, String)> = ["node-a", "node-b", "node-c"]
        .iter()
        .map(|h| (h.to_string(), String::new()))
        .collect();
    assert_eq!(
        hosts(v.messages.iter().map(|m| m.metadata.clone())),
        expected
    );
    assert!(v.messages.iter().all(|m| m.version.is_some()));

    // Unary replies of any shape merge: ServiceList too.
    let s = client
        .service_list(with((), &[("nodes", &all)]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.messages.len(), 3);

    c.stop().await;
    let dead = "127.0.0.1:1";
    let targets = format!("{all},{dead}");
    let v = client
        .version(with((), &[("nodes", &targets)]))
        .await
        .unwrap()
        .into_inner();
    let got = hosts(v.messages.iter().map(|m| m.metadata.clone()));
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[..2], expected[..2]);
    assert!(v.messages[0].version.is_some() && v.messages[1].version.is_some());
    for (i, name) in [(2, c.target()), (3, dead.to_string())] {
        assert_eq!(got[i].0, name);
        assert!(!got[i].1.is_empty(), "{got:?}");
        assert!(v.messages[i].version.is_none());
    }
    assert!(got[3].1.contains(dead), "{}", got[3].1);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_fan_out_interleaves_tagged_messages_and_reports_failures() {
    let pki = Pki::new();
    let a = Node::start(&pki, "node-a").await;
    let b = Node::start(&pki, "node-b").await;
    for node in [&a, &b] {
        let script = format!("echo hello from {}; exec sleep 1000", node.hostname);
        node.supervisor.load(sh("talker", &script)).unwrap();
        node.supervisor.start("talker").await.unwrap();
    }
    let dead = "127.0.0.1:1";
    let targets = format!("{},{},{dead}", a.target(), b.target());
    let mut client = machine(&pki, &a, READER).await;

    // Logs without follow: every node's lines, then the stream ends.
    let request = LogsRequest {
        namespace: "system".into(),
        id: "talker".into(),
        driver: ContainerDriver::Containerd as i32,
        follow: false,
        tail_lines: -1,
    };
    let mut by_host: BTreeMap<String, (String, String)> = BTreeMap::new();
    let expected_a = "hello from node-a\n";
    within("every node's log lines", async {
        // Retry until both services have written their line.
        loop {
            by_host.clear();
            let mut logs = client
                .logs(with(request.clone(), &[("nodes", &targets)]))
                .await
                .unwrap()
                .into_inner();
            while let Some(chunk) = logs.message().await.unwrap() {
                let m = chunk.metadata.unwrap();
                let entry = by_host.entry(m.hostname).or_default();
                entry.0.push_str(std::str::from_utf8(&chunk.bytes).unwrap());
                entry.1.push_str(&m.error);
            }
            if by_host.get("node-a").is_some_and(|e| e.0 == expected_a)
                && by_host
                    .get("node-b")
                    .is_some_and(|e| e.0 == "hello from node-b\n")
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(by_host.len(), 3, "{by_host:?}");
    assert!(
        by_host[dead].0.is_empty() && !by_host[dead].1.is_empty(),
        "{by_host:?}"
    );

    // Events follow forever: read until both nodes and the failure were seen.
    let mut events = client
        .events(with(
            EventsRequest {
                tail_events: 10,
                ..Default::default()
            },
            &[("nodes", &targets)],
        ))
        .await
        .unwrap()
        .into_inner();
    let mut seen = BTreeMap::new();
    within("events from both nodes and the failure", async {
        while seen.len() < 3 {
            let event = events.message().await.unwrap().unwrap();
            let m = event.metadata.unwrap();
            seen.insert(m.hostname, m.error);
        }
    })
    .await;
    assert_eq!(seen["node-a"], "");
    assert_eq!(seen["node-b"], "");
    assert!(!seen[dead].is_empty());
    drop(events);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_call_is_never_forwarded_again() {
    let pki = Pki::new();
    // A node that does not know its own address: `node: <itself>` goes out over the
    // network, comes back with `proxyfrom`, and must then be served locally.
    let a = Node::start_with(&pki, "node-a", |s| s.local_names.clear()).await;
    let b = Node::start(&pki, "node-b").await;
    let mut client = machine(&pki, &a, READER).await;
    let own = a.target();
    let v = within(
        "the call to come back",
        client.version(with((), &[("node", &own)])),
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(v.messages[0].metadata.as_ref().unwrap().hostname, "node-a");

    // `proxyfrom` from anyone means: local, whatever `node`/`nodes` say.
    let b_target = b.target();
    let pairs = [
        ("proxyfrom", "elsewhere"),
        ("node", b_target.as_str()),
        ("nodes", b_target.as_str()),
    ];
    let v = client.version(with((), &pairs)).await.unwrap().into_inner();
    assert_eq!(v.messages.len(), 1);
    assert_eq!(v.messages[0].metadata.as_ref().unwrap().hostname, "node-a");
    a.stop().await;
    b.stop().await;
}
