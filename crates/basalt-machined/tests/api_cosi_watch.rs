//! COSI Watch over a real socket: bootstrap, every transition in order, one-id watches,
//! resume from bookmarks, falling behind, shutdown.
#![allow(clippy::unwrap_used)]

mod api_support;

use api_support::{sh, within, Node};
use basalt_api::cosi::resource::{self as pb, EventType};
use basalt_resources::ResourceDefinition;
use tonic::{Code, Streaming};

const SERVICES: &str = "Services.v1alpha1.basalt.dev";

fn yaml(r: &pb::Resource) -> serde_yaml::Value {
    serde_yaml::from_str(&r.spec.as_ref().unwrap().yaml_spec).unwrap()
}

fn version(r: &pb::Resource) -> u64 {
    r.metadata.as_ref().unwrap().version.parse().unwrap()
}

fn watch_request(id: Option<&str>, bootstrap: bool, bookmark: Option<Vec<u8>>) -> pb::WatchRequest {
    pb::WatchRequest {
        namespace: "runtime".into(),
        r#type: SERVICES.into(),
        id: id.map(str::to_string),
        options: Some(pb::WatchOptions {
            bootstrap_contents: bootstrap,
            start_from_bookmark: bookmark,
            bootstrap_bookmark: true,
            ..Default::default()
        }),
        api_version: 1,
    }
}

/// The next event of a watch (each response holds one).
async fn next_event(stream: &mut Streaming<pb::WatchResponse>) -> pb::Event {
    let resp = within("a watch event", stream.message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resp.event.len(), 1, "{resp:?}");
    resp.event.into_iter().next().unwrap()
}

fn kind(e: &pb::Event) -> EventType {
    EventType::try_from(e.event_type).unwrap()
}

/// (event type, id, version, running) of a resource event.
fn summary(e: &pb::Event) -> (EventType, String, u64, bool) {
    let r = e.resource.as_ref().unwrap();
    let running = yaml(r)["running"].as_bool().unwrap();
    (
        kind(e),
        r.metadata.as_ref().unwrap().id.clone(),
        version(r),
        running,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_bootstraps_then_streams_every_transition_and_resumes_from_bookmarks() {
    let node = Node::start().await;
    node.supervisor.load(sh("web", "exec sleep 1000")).unwrap();
    let mut state = node.state();
    let mut watch = state
        .watch(watch_request(None, true, None))
        .await
        .unwrap()
        .into_inner();

    // First an empty response, then the current state, then BOOTSTRAPPED with a bookmark.
    let first = within("the first response", watch.message())
        .await
        .unwrap()
        .unwrap();
    assert!(first.event.is_empty());
    let created = next_event(&mut watch).await;
    assert_eq!(
        summary(&created),
        (EventType::Created, "web".into(), 1, false)
    );
    let boot = next_event(&mut watch).await;
    assert_eq!(kind(&boot), EventType::Bootstrapped);
    assert!(boot.resource.is_none());
    assert!(boot.bookmark.is_some());

    // start, stop, start: every change arrives, in order, versions +1 each.
    node.supervisor.start("web").await.unwrap();
    let e1 = next_event(&mut watch).await;
    assert_eq!(summary(&e1), (EventType::Updated, "web".into(), 2, true));
    let old = e1.old.as_ref().unwrap();
    assert_eq!(
        (version(old), yaml(old)["running"].as_bool()),
        (1, Some(false))
    );
    node.supervisor.stop("web").await.unwrap();
    let e2 = next_event(&mut watch).await;
    assert_eq!(summary(&e2), (EventType::Updated, "web".into(), 3, false));
    node.supervisor.start("web").await.unwrap();
    let e3 = next_event(&mut watch).await;
    assert_eq!(summary(&e3), (EventType::Updated, "web".into(), 4, true));
    drop(watch);

    // Resuming from the bookmark of e1 replays exactly e2 and e3.
    let mut resumed = state
        .watch(watch_request(None, false, e1.bookmark.clone()))
        .await
        .unwrap()
        .into_inner();
    assert!(within("first", resumed.message())
        .await
        .unwrap()
        .unwrap()
        .event
        .is_empty());
    assert_eq!(summary(&next_event(&mut resumed).await), summary(&e2));
    assert_eq!(summary(&next_event(&mut resumed).await), summary(&e3));
    drop(resumed);

    // Changes made while nobody watches are delivered after resuming from the last bookmark.
    node.supervisor.stop("web").await.unwrap();
    node.supervisor.load(sh("db", "exec sleep 1000")).unwrap();
    let mut resumed = state
        .watch(watch_request(None, false, e3.bookmark.clone()))
        .await
        .unwrap()
        .into_inner();
    assert!(within("first", resumed.message())
        .await
        .unwrap()
        .unwrap()
        .event
        .is_empty());
    assert_eq!(
        summary(&next_event(&mut resumed).await),
        (EventType::Updated, "web".into(), 5, false)
    );
    assert_eq!(
        summary(&next_event(&mut resumed).await),
        (EventType::Created, "db".into(), 1, false)
    );

    // Bookmarks not made by this server are FAILED_PRECONDITION.
    let err = state
        .watch(watch_request(None, false, Some(b"junk".to_vec())))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_one_id_starts_with_its_state_or_its_absence() {
    let node = Node::start().await;
    let mut state = node.state();
    let mut watch = state
        .watch(watch_request(Some("later"), false, None))
        .await
        .unwrap()
        .into_inner();
    assert!(within("first", watch.message())
        .await
        .unwrap()
        .unwrap()
        .event
        .is_empty());
    let absent = next_event(&mut watch).await;
    assert_eq!(kind(&absent), EventType::Destroyed);
    let md = absent.resource.unwrap().metadata.unwrap();
    assert_eq!((md.id.as_str(), md.r#type.as_str()), ("later", SERVICES));

    node.supervisor
        .load(sh("later", "exec sleep 1000"))
        .unwrap();
    node.supervisor
        .load(sh("other", "exec sleep 1000"))
        .unwrap();
    node.supervisor.start("later").await.unwrap();
    assert_eq!(
        summary(&next_event(&mut watch).await),
        (EventType::Created, "later".into(), 1, false)
    );
    // "other" is filtered out; the next event is later's own update.
    assert_eq!(
        summary(&next_event(&mut watch).await),
        (EventType::Updated, "later".into(), 2, true)
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_ends_when_the_server_shuts_down() {
    let node = Node::start().await;
    let mut watch = node
        .state()
        .watch(watch_request(None, true, None))
        .await
        .unwrap()
        .into_inner();
    assert!(within("first", watch.message())
        .await
        .unwrap()
        .unwrap()
        .event
        .is_empty());
    assert_eq!(kind(&next_event(&mut watch).await), EventType::Bootstrapped);
    node.shutdown.cancel();
    let end = within("the watch to end", watch.message()).await;
    match end {
        Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
        Ok(None) => {}
        Ok(Some(resp)) => panic!("unexpected response after shutdown: {resp:?}"),
    }
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_that_falls_behind_gets_an_errored_bookmark_that_resumes_without_loss() {
    // A store whose watchers may lag only 2 events, with a long history to resume from.
    let small = basalt_resources::Store::with_limits(100_000, 2);
    small
        .register(ResourceDefinition {
            type_: "Counters.test.basalt.dev".into(),
            aliases: vec!["counter".into()],
            default_namespace: "test".into(),
            columns: Vec::new(),
            sensitive: false,
        })
        .unwrap();
    let node = Node::start_with(|h| h.store = small.clone()).await;
    let request = |bookmark: Option<Vec<u8>>| pb::WatchRequest {
        namespace: "test".into(),
        r#type: "counter".into(),
        id: None,
        options: Some(pb::WatchOptions {
            start_from_bookmark: bookmark,
            ..Default::default()
        }),
        api_version: 1,
    };
    let mut state = node.state();
    let mut watch = state.watch(request(None)).await.unwrap().into_inner();
    assert!(within("first", watch.message())
        .await
        .unwrap()
        .unwrap()
        .event
        .is_empty());

    // Without reading, thousands of changes overflow every buffer: the watch falls behind.
    const CHANGES: u64 = 5000;
    let mut r = basalt_resources::Resource::new(
        "test",
        "Counters.test.basalt.dev",
        "c",
        serde_json::json!({"n": 1}),
    );
    r = small.create("test", r).unwrap();
    for n in 2..=CHANGES {
        r.spec = serde_json::json!({ "n": n });
        r = small.update("test", r).unwrap();
    }

    let mut versions = Vec::new();
    let errored = loop {
        match within("a watch message", watch.message()).await {
            Ok(Some(resp)) => {
                let event = resp.event.into_iter().next().unwrap();
                if kind(&event) == EventType::Errored {
                    break event;
                }
                versions.push(version(event.resource.as_ref().unwrap()));
            }
            other => panic!("expected events then ERRORED, got {other:?}"),
        }
    };
    assert!(
        (versions.len() as u64) < CHANGES,
        "the watch did not fall behind"
    );
    assert!(errored.error.as_ref().unwrap().contains("fell behind"));
    let status = within("the status", watch.message()).await.unwrap_err();
    assert_eq!(status.code(), Code::Aborted);
    assert!(
        status.message().contains("start_from_bookmark"),
        "{}",
        status.message()
    );

    // Resuming from the ERRORED bookmark delivers the rest: no gap, no duplicate.
    let mut resumed = state
        .watch(request(errored.bookmark))
        .await
        .unwrap()
        .into_inner();
    assert!(within("first", resumed.message())
        .await
        .unwrap()
        .unwrap()
        .event
        .is_empty());
    while versions.last() != Some(&CHANGES) {
        let event = next_event(&mut resumed).await;
        versions.push(version(event.resource.as_ref().unwrap()));
    }
    assert_eq!(versions, (1..=CHANGES).collect::<Vec<_>>());
    node.stop().await;
}
