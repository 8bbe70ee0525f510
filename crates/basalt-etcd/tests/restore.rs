//! Bootstrap refuses used data; a snapshot restored into a new directory starts a fresh
//! one-member cluster that has the keys.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use basalt_etcd::args::{EtcdArgs, Initial};
use basalt_etcd::bootstrap::{ensure_no_data, restore_snapshot, restore_snapshot_unverified};
use basalt_etcd::client::Client;
use basalt_etcd::EtcdError;
use common::*;
use futures::StreamExt as _;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_restores_into_a_fresh_cluster() {
    let ca = etcd_ca();
    let dir = tempfile::tempdir().unwrap();
    let mut original = start(dir.path(), &ca, "cp-0", free_ports(), Initial::New);
    original.wait_ready(Duration::from_secs(30)).await;
    let client = Client::connect(&[original.client_url()], &original.tls)
        .await
        .unwrap();
    for i in 0..100 {
        client
            .put(format!("key-{i}"), format!("value-{i}"))
            .await
            .unwrap();
    }

    // Bootstrap refuses a data directory in use.
    let err = ensure_no_data(&original.args.data_dir).unwrap_err();
    assert!(matches!(err, EtcdError::DataExists { .. }), "{err}");
    assert!(err.to_string().contains("member"), "{err}");

    // Snapshot as a stream and as a file.
    let t = Instant::now();
    let mut stream = client.snapshot().await.unwrap();
    let mut streamed = 0usize;
    while let Some(chunk) = stream.next().await {
        streamed += chunk.unwrap().len();
    }
    let snapshot = dir.path().join("snapshot.db");
    let size = client.snapshot_to_file(&snapshot).await.unwrap();
    let snap_time = t.elapsed();
    assert!(size > 0 && streamed > 0);
    original.kill();

    // Restore as a new one-member cluster on another directory and other ports.
    let node = dir.path().join("restored");
    let certs = node_certs(&ca, "cp-new");
    let paths = certs.write(&node.join("secrets")).unwrap();
    let mut args = EtcdArgs::new("cp-new", node.join("data"), LOCALHOST, paths, Initial::New);
    args.ports = free_ports();
    let t = Instant::now();
    restore_snapshot(
        &etcdctl(),
        &snapshot,
        &args.data_dir,
        "cp-new",
        &args.peer_url(),
    )
    .unwrap();
    let restore_time = t.elapsed();
    // Restoring over existing data is refused.
    let err = restore_snapshot(
        &etcdctl(),
        &snapshot,
        &args.data_dir,
        "cp-new",
        &args.peer_url(),
    )
    .unwrap_err();
    assert!(matches!(err, EtcdError::DataExists { .. }), "{err}");

    let restored = start_with(args, certs.client_tls(), &node);
    restored.wait_ready(Duration::from_secs(30)).await;
    let client = Client::connect(&[restored.client_url()], &restored.tls)
        .await
        .unwrap();
    assert_eq!(client.get("key-42").await.unwrap().unwrap(), b"value-42");
    let members = client.member_list().await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].name, "cp-new");
    client.put("after", "restore").await.unwrap();
    eprintln!(
        "BENCH etcd snapshot of 100 keys ({size} bytes) {snap_time:.2?}; etcdctl restore {restore_time:.2?}"
    );

    // A corrupted snapshot is refused by the hash check, and the target stays empty.
    let bad = dir.path().join("bad.db");
    let mut bytes = std::fs::read(&snapshot).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    std::fs::write(&bad, &bytes).unwrap();
    let target = dir.path().join("bad-data");
    let err = restore_snapshot(&etcdctl(), &bad, &target, "x", "https://127.0.0.1:1").unwrap_err();
    assert!(matches!(err, EtcdError::Command { .. }), "{err}");
    assert!(!target.exists());
    // Without the hash check, a database with the hash removed restores.
    std::fs::write(&bad, &bytes[..n - 32]).unwrap();
    restore_snapshot_unverified(&etcdctl(), &bad, &target, "x", "https://127.0.0.1:1").unwrap();
    assert!(target.join("member").is_dir());
}
