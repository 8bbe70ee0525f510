//! The proxy in front of one node over real mutual TLS: local passthrough of unary and
//! streaming calls (machine API and COSI), and authorisation by roles.
#![allow(clippy::unwrap_used)]

mod proxy_support;

use basalt_api::common::{ContainerDriver, Data};
use basalt_api::cosi::resource::{self as pb, EventType};
use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_api::machine::{LogsRequest, RebootRequest};
use basalt_machined::machine::resources::{HostnameSpec, HOSTNAME_ID};
use basalt_resources::{Resource, Spec as _};
use proxy_support::{machine, sh, state, with, within, Node, Pki};
use std::sync::atomic::Ordering;
use tonic::{Code, Streaming};

const ADMIN: &[&str] = &["os:admin"];
const READER: &[&str] = &["os:reader"];

/// Reads log chunks until the text has `lines` lines.
async fn read_lines(stream: &mut Streaming<Data>, lines: usize) -> Vec<String> {
    let mut text = String::new();
    while text.lines().count() < lines {
        let chunk = within("log data", stream.message()).await.unwrap().unwrap();
        text.push_str(std::str::from_utf8(&chunk.bytes).unwrap());
    }
    text.lines().map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unary_calls_pass_through_to_machined() {
    let pki = Pki::new();
    let node = Node::start(&pki, "node-a").await;
    node.supervisor.load(sh("web", "exec sleep 1000")).unwrap();
    let mut client = machine(&pki, &node, READER).await;

    let version = client.version(()).await.unwrap().into_inner();
    assert_eq!(version.messages.len(), 1);
    let v = &version.messages[0];
    assert_eq!(v.metadata.as_ref().unwrap().hostname, "node-a");
    assert!(v.version.as_ref().unwrap().tag.starts_with('v'));

    let services = client.service_list(()).await.unwrap().into_inner();
    let ids: Vec<_> = services.messages[0]
        .services
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert!(ids.contains(&"web"), "{ids:?}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followed_logs_stream_through_the_proxy() {
    let pki = Pki::new();
    let node = Node::start(&pki, "node-a").await;
    let trigger = node.dir.path().join("go");
    let script = format!(
        "echo line-1; echo line-2; while [ ! -e {0} ]; do sleep 0.05; done; echo late-line; \
         exec sleep 1000",
        trigger.display()
    );
    node.supervisor.load(sh("talker", &script)).unwrap();
    node.supervisor.start("talker").await.unwrap();
    let mut client = machine(&pki, &node, READER).await;
    let request = LogsRequest {
        namespace: "system".into(),
        id: "talker".into(),
        driver: ContainerDriver::Containerd as i32,
        follow: true,
        tail_lines: -1,
    };
    let mut logs = client.logs(request).await.unwrap().into_inner();
    assert_eq!(read_lines(&mut logs, 2).await, vec!["line-1", "line-2"]);
    std::fs::write(&trigger, b"").unwrap();
    assert_eq!(read_lines(&mut logs, 1).await, vec!["late-line"]);
    drop(logs);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosi_list_and_watch_pass_through() {
    let pki = Pki::new();
    let node = Node::start(&pki, "node-a").await;
    let mut client = state(&pki, &node, READER).await;
    let mut list = client
        .list(pb::ListRequest {
            namespace: HostnameSpec::NAMESPACE.into(),
            r#type: HostnameSpec::TYPE.into(),
            options: None,
        })
        .await
        .unwrap()
        .into_inner();
    let item = within("a list item", list.message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.resource.unwrap().metadata.unwrap().id, HOSTNAME_ID);
    assert!(within("the list end", list.message())
        .await
        .unwrap()
        .is_none());

    let mut watch = client
        .watch(pb::WatchRequest {
            namespace: HostnameSpec::NAMESPACE.into(),
            r#type: HostnameSpec::TYPE.into(),
            id: Some(HOSTNAME_ID.into()),
            options: None,
            api_version: 1,
        })
        .await
        .unwrap()
        .into_inner();
    let first = within("the first reply", watch.message())
        .await
        .unwrap()
        .unwrap();
    assert!(first.event.is_empty());
    let created = within("the current resource", watch.message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.event[0].event_type, EventType::Created as i32);
    let spec = HostnameSpec {
        hostname: "node-a2".into(),
        domainname: String::new(),
    };
    node.store
        .apply("machined", Resource::from_spec(HOSTNAME_ID, &spec).unwrap())
        .unwrap();
    let updated = within("the update", watch.message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.event[0].event_type, EventType::Updated as i32);
    drop(watch);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_decide_and_only_impersonators_may_state_them() {
    let pki = Pki::new();
    let node = Node::start(&pki, "node-a").await;

    // A reader may read but not reboot.
    let mut reader = machine(&pki, &node, READER).await;
    let denied = reader.reboot(RebootRequest::default()).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert!(denied.message().contains("Reboot"), "{}", denied.message());

    // A reader claiming admin in the header is still a reader.
    let claim = with(RebootRequest::default(), &[("x-basalt-roles", "os:admin")]);
    let denied = reader.reboot(claim).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // An impersonator's own certificate grants nothing …
    let node_peer = proxy_support::channel(node.addr, pki.impersonator_config()).await;
    let mut imp = MachineServiceClient::new(node_peer);
    let denied = imp.version(()).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    // … but the roles it states are honoured, both ways.
    let as_reader = with(RebootRequest::default(), &[("x-basalt-roles", "os:reader")]);
    assert_eq!(
        imp.reboot(as_reader).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    let as_operator = with(
        RebootRequest::default(),
        &[("x-basalt-roles", "os:operator")],
    );
    imp.reboot(as_operator).await.unwrap();
    assert_eq!(node.power.reboots.load(Ordering::SeqCst), 1);

    // An operator reboots; an admin too.
    let mut operator = machine(&pki, &node, &["os:operator"]).await;
    operator.reboot(RebootRequest::default()).await.unwrap();
    let mut admin = machine(&pki, &node, ADMIN).await;
    admin.reboot(RebootRequest::default()).await.unwrap();
    assert_eq!(node.power.reboots.load(Ordering::SeqCst), 3);

    // No known role at all.
    let mut nobody = machine(&pki, &node, &["os:root"]).await;
    assert_eq!(
        nobody.version(()).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_mode_refuses_forwarding_and_admin_calls() {
    let pki = Pki::new();
    let node = Node::start_with(&pki, "node-a", |s| {
        s.maintenance = true;
        s.node_client = None;
    })
    .await;
    let mut client = machine(&pki, &node, READER).await;
    // Naming itself is fine; naming another node is not.
    let own = with((), &[("nodes", "node-a")]);
    let reply = client.version(own).await.unwrap().into_inner();
    assert_eq!(
        reply.messages[0].metadata.as_ref().unwrap().hostname,
        "node-a"
    );
    let other = with((), &[("node", "10.5.0.9")]);
    let err = client.version(other).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err
        .message()
        .contains("forwarding is off in maintenance mode"));
    let err = client.reboot(RebootRequest::default()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    node.stop().await;
}
