//! Watch: bootstrap, bursts, falling behind and resuming, history limits, filters.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use basalt_resources::{
    Event, EventKind, Store, StoreError, WatchError, WatchFilter, WatchOptions, Watcher,
};
use common::*;
use serde_json::json;

fn since(revision: u64) -> WatchOptions {
    WatchOptions {
        bootstrap: false,
        since_revision: Some(revision),
    }
}

async fn next(w: &mut Watcher) -> Event {
    within("the next watch event", w.next()).await.unwrap()
}

/// Bumps thing `id` to spec `n` (as its owner, the user).
fn bump(store: &Store, id: &str, n: u64) {
    store.apply("", thing(id, n)).unwrap();
}

#[tokio::test]
async fn bootstrap_then_live_events_in_order() {
    let store = store_with(Store::new());
    store.create("", thing("b", 0)).unwrap();
    store.create("", thing("a", 0)).unwrap();
    store.create("", service("s", true)).unwrap();
    let snapshot = store.revision();

    let opts = WatchOptions {
        bootstrap: true,
        since_revision: None,
    };
    let mut w = store.watch(WatchFilter::of("test", THINGS), opts).unwrap();
    bump(&store, "a", 1);
    store.destroy("", "test", THINGS, "b").unwrap();

    let e = next(&mut w).await;
    assert_eq!(
        (e.kind, e.resource.metadata.id.as_str()),
        (EventKind::Created, "a")
    );
    assert_eq!(e.revision, snapshot);
    let e = next(&mut w).await;
    assert_eq!(
        (e.kind, e.resource.metadata.id.as_str()),
        (EventKind::Created, "b")
    );
    let e = next(&mut w).await;
    assert_eq!(e.kind, EventKind::Bootstrapped);
    assert_eq!(e.revision, snapshot);
    assert_eq!(e.resource.metadata.type_, THINGS);

    let e = next(&mut w).await;
    assert_eq!(e.kind, EventKind::Updated);
    assert_eq!(e.revision, snapshot + 1);
    assert_eq!(e.resource.spec, json!({"n": 1}));
    assert_eq!(e.resource.metadata.version, 2);
    assert_eq!(e.old.unwrap().spec, json!({"n": 0}));
    let e = next(&mut w).await;
    assert_eq!(
        (e.kind, e.resource.metadata.id.as_str()),
        (EventKind::Destroyed, "b")
    );
    assert_eq!(e.revision, snapshot + 2);
    assert_eq!(w.last_delivered(), snapshot + 2);
}

/// Reads `count` events and checks their revisions continue `expected` with no gap.
async fn expect_contiguous(w: &mut Watcher, expected: &mut u64, count: u64) {
    for _ in 0..count {
        let e = next(w).await;
        *expected += 1;
        assert_eq!(e.revision, *expected, "revisions must be contiguous");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_watcher_sees_every_revision_of_a_burst_in_order() {
    const UPDATES: u64 = 20_000;
    let store = store_with(Store::new());
    for id in ["a", "b", "c", "d"] {
        store.create("", thing(id, 0)).unwrap();
    }
    let start = store.revision();
    let mut w = store
        .watch(WatchFilter::of("test", THINGS), WatchOptions::default())
        .unwrap();
    let consumed = Arc::new(AtomicU64::new(0));
    let progress = consumed.clone();
    let reader = tokio::spawn(async move {
        let mut versions: BTreeMap<String, u64> = BTreeMap::new();
        let mut expected = start;
        while expected < start + UPDATES {
            let e = w.next().await.unwrap();
            progress.fetch_add(1, Ordering::Relaxed);
            expected += 1;
            assert_eq!(e.revision, expected, "every revision, in order");
            let version = versions.entry(e.resource.metadata.id.clone()).or_insert(1);
            *version += 1;
            assert_eq!(
                e.resource.metadata.version, *version,
                "every version, in order"
            );
        }
        versions
    });
    for i in 1..=UPDATES {
        let id = ["a", "b", "c", "d"][(i % 4) as usize];
        bump(&store, id, i);
        // Bursts of up to half the default buffer (8192) ahead of the reader.
        while i - consumed.load(Ordering::Relaxed) >= 4096 {
            tokio::task::yield_now().await;
        }
    }
    let versions = within("the reader", reader).await.unwrap();
    assert_eq!(versions.values().sum::<u64>(), 4 + UPDATES);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_watcher_resumes_and_misses_nothing() {
    const UPDATES: u64 = 20_000;
    // A tiny live buffer forces lagging; the history holds everything for resuming.
    let store = store_with(Store::with_limits(32_768, 16));
    store.create("", thing("a", 0)).unwrap();
    let start = store.revision();
    let filter = WatchFilter::of("test", THINGS);
    let mut w = store
        .watch(filter.clone(), WatchOptions::default())
        .unwrap();
    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            let (mut expected, mut resumes) = (start, 0u64);
            while expected < start + UPDATES {
                match w.next().await {
                    Ok(e) => {
                        expected += 1;
                        assert_eq!(e.revision, expected);
                        assert_eq!(e.resource.metadata.version, expected - start + 1);
                    }
                    Err(WatchError::FellBehind { last_delivered }) => {
                        assert_eq!(last_delivered, expected);
                        w = store.watch(filter.clone(), since(last_delivered)).unwrap();
                        resumes += 1;
                    }
                    Err(WatchError::Closed) => panic!("store closed"),
                }
            }
            resumes
        })
    };
    for i in 1..=UPDATES {
        bump(&store, "a", i);
    }
    let resumes = within("the reader", reader).await.unwrap();
    eprintln!("resumed {resumes} times");
}

#[tokio::test]
async fn a_slow_watcher_falls_behind_and_resumes_from_last_delivered() {
    let store = store_with(Store::with_limits(1024, 8));
    store.create("", thing("a", 0)).unwrap();
    let start = store.revision();
    let filter = WatchFilter::of("test", THINGS);
    let mut w = store
        .watch(filter.clone(), WatchOptions::default())
        .unwrap();
    for i in 1..=5 {
        bump(&store, "a", i);
    }
    let mut expected = start;
    expect_contiguous(&mut w, &mut expected, 3).await;
    for i in 6..=60 {
        bump(&store, "a", i);
    }
    let err = within("the lag", w.next()).await.unwrap_err();
    assert_eq!(
        err,
        WatchError::FellBehind {
            last_delivered: start + 3
        }
    );
    // It keeps failing rather than skipping ahead.
    assert_eq!(within("the lag", w.next()).await.unwrap_err(), err);

    let mut resumed = store.watch(filter, since(start + 3)).unwrap();
    expect_contiguous(&mut resumed, &mut expected, 57).await;
    assert_eq!(expected, store.revision());
    // ... and continues with live events.
    bump(&store, "a", 61);
    expect_contiguous(&mut resumed, &mut expected, 1).await;
}

#[tokio::test]
async fn resuming_beyond_the_history_is_refused() {
    let store = store_with(Store::with_limits(8, 8));
    for i in 0..20 {
        bump(&store, "a", i);
    }
    let current = store.revision();
    let filter = WatchFilter::of("test", THINGS);
    assert_eq!(
        store.watch(filter.clone(), since(2)).unwrap_err(),
        StoreError::HistoryCompacted {
            requested: 2,
            oldest: current - 7
        }
    );
    // The oldest resumable point is one before the oldest kept event.
    let mut w = store.watch(filter.clone(), since(current - 8)).unwrap();
    let mut expected = current - 8;
    expect_contiguous(&mut w, &mut expected, 8).await;
    assert!(matches!(
        store.watch(filter, since(current + 1)).unwrap_err(),
        StoreError::RevisionInFuture { .. }
    ));
}

#[tokio::test]
async fn an_id_filter_sees_only_that_resource() {
    let store = store_with(Store::new());
    store.create("", thing("mine", 0)).unwrap();
    store.create("", thing("other", 0)).unwrap();
    let opts = WatchOptions {
        bootstrap: true,
        since_revision: None,
    };
    let mut w = store
        .watch(WatchFilter::one("test", THINGS, "mine"), opts)
        .unwrap();
    let e = next(&mut w).await;
    assert_eq!(
        (e.kind, e.resource.metadata.id.as_str()),
        (EventKind::Created, "mine")
    );
    assert_eq!(next(&mut w).await.kind, EventKind::Bootstrapped);

    bump(&store, "other", 1);
    store.create("", service("mine", true)).unwrap();
    bump(&store, "mine", 1);
    let e = next(&mut w).await;
    assert_eq!(e.resource.metadata.id, "mine");
    assert_eq!(e.resource.metadata.type_, THINGS);
    assert_eq!(e.resource.spec, json!({"n": 1}));
    assert_eq!(e.revision, store.revision());
}

#[tokio::test]
async fn empty_namespace_and_type_watch_everything() {
    let store = store_with(Store::new());
    let mut w = store
        .watch(WatchFilter::default(), WatchOptions::default())
        .unwrap();
    store.create("", service("s", true)).unwrap();
    bump(&store, "t", 1);
    assert_eq!(next(&mut w).await.resource.metadata.type_, SERVICES);
    assert_eq!(next(&mut w).await.resource.metadata.type_, THINGS);
}
