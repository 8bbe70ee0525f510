//! A real 3-member cluster formed the Basalt way: one member from `Initial::New`, two more
//! join as learners through `join::join` and are promoted; a member that lost its data
//! rejoins under the same name (the stale member is replaced).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use basalt_etcd::args::Initial;
use basalt_etcd::client::Client;
use basalt_etcd::join::{join, promote_when_ready};
use basalt_pki::CertificateAuthority;
use common::*;
use tokio_util::sync::CancellationToken;

/// Joins `name` through the members already running and starts it; returns after promotion.
async fn join_member(
    root: &std::path::Path,
    ca: &CertificateAuthority,
    running: &[&Member],
    name: &str,
) -> Member {
    let endpoints: Vec<String> = running.iter().map(|m| m.client_url()).collect();
    let client = Client::connect(&endpoints, &running[0].tls).await.unwrap();
    let ports = free_ports();
    let peer_url = format!("https://127.0.0.1:{}", ports.peer);
    let plan = join(&client, name, &peer_url, &log_line).await.unwrap();
    assert!(plan.initial_cluster.contains(&format!("{name}={peer_url}")));
    let member = start(
        root,
        ca,
        name,
        ports,
        Initial::Existing {
            initial_cluster: plan.initial_cluster.clone(),
        },
    );
    let listed = client.member_list().await.unwrap();
    let me = listed.iter().find(|m| m.id == plan.member_id).unwrap();
    assert!(me.is_learner, "joined as a learner: {me:?}");
    let cancel = CancellationToken::new();
    tokio::time::timeout(
        Duration::from_secs(60),
        promote_when_ready(&client, plan.member_id, &cancel, &log_line),
    )
    .await
    .unwrap_or_else(|_| panic!("{name} not promoted in 60 s\n{}", member.log_tail()))
    .unwrap();
    member
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_form_and_a_stale_member_is_replaced() {
    let ca = etcd_ca();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let first = start(dir.path(), &ca, "cp-0", free_ports(), Initial::New);
    first.wait_ready(Duration::from_secs(30)).await;
    let one_member = started.elapsed();
    let second = join_member(dir.path(), &ca, &[&first], "cp-1").await;
    let mut third = join_member(dir.path(), &ca, &[&first, &second], "cp-2").await;
    let three_voters = started.elapsed();

    let endpoints = vec![first.client_url(), second.client_url(), third.client_url()];
    let client = Client::connect(&endpoints, &first.tls).await.unwrap();
    let members = client.member_list().await.unwrap();
    assert_eq!(members.len(), 3, "{members:?}");
    assert!(members.iter().all(|m| !m.is_learner), "{members:?}");
    let mut names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["cp-0", "cp-1", "cp-2"]);

    // Writes through one member are read through the others.
    let via_first = Client::connect(&[first.client_url()], &first.tls)
        .await
        .unwrap();
    via_first.put("k1", "v1").await.unwrap();
    for member in [&second, &third] {
        let c = Client::connect(&[member.client_url()], &member.tls)
            .await
            .unwrap();
        assert_eq!(c.get("k1").await.unwrap().unwrap(), b"v1");
        let status = c.status(&member.client_url()).await.unwrap();
        assert!(!status.is_learner);
    }

    // The client moves on when an endpoint is down.
    let old_id = members.iter().find(|m| m.name == "cp-2").unwrap().id;
    third.kill();
    let survivors = Client::connect(&[third.client_url(), first.client_url()], &first.tls)
        .await
        .unwrap();
    assert_eq!(survivors.get("k1").await.unwrap().unwrap(), b"v1");

    // cp-2 lost its data: it joins again under the same name; the stale member goes.
    std::fs::remove_dir_all(dir.path().join("cp-2")).unwrap();
    let rejoin_start = Instant::now();
    let third = join_member(dir.path(), &ca, &[&first, &second], "cp-2").await;
    let rejoin = rejoin_start.elapsed();
    let members = client.member_list().await.unwrap();
    assert_eq!(members.len(), 3, "{members:?}");
    let new = members.iter().find(|m| m.name == "cp-2").unwrap();
    assert_ne!(new.id, old_id);
    assert!(members.iter().all(|m| !m.is_learner));
    let c = Client::connect(&[third.client_url()], &third.tls)
        .await
        .unwrap();
    assert_eq!(c.get("k1").await.unwrap().unwrap(), b"v1");

    // Leadership moves on request.
    let status = client.status(&first.client_url()).await.unwrap();
    let target = members.iter().find(|m| m.id != status.leader).unwrap().id;
    client.move_leader(target).await.unwrap();
    let status = client.status(&second.client_url()).await.unwrap();
    assert_eq!(status.leader, target);

    eprintln!(
        "BENCH etcd (loopback, real etcd 3.4): one member ready {one_member:.2?}; \
         3 voters (2 learner joins + promotions) {three_voters:.2?}; stale member replaced \
         and rejoined {rejoin:.2?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_learner_or_an_unreachable_cluster_is_reported() {
    let ca = etcd_ca();
    let dir = tempfile::tempdir().unwrap();
    let first = start(dir.path(), &ca, "cp-0", free_ports(), Initial::New);
    first.wait_ready(Duration::from_secs(30)).await;
    let client = Client::connect(&[first.client_url()], &first.tls)
        .await
        .unwrap();
    // The first learner add can be refused as "unhealthy" right after start: retry.
    let start = Instant::now();
    let added = loop {
        match client
            .member_add_learner(&["https://127.0.0.1:1".to_string()])
            .await
        {
            Ok(a) => break a,
            Err(e) if e.is_retryable() && start.elapsed() < Duration::from_secs(20) => {
                tokio::time::sleep(Duration::from_millis(500)).await
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert!(added.member.is_learner);
    let err = client
        .member_add_learner(&["https://127.0.0.1:2".to_string()])
        .await
        .unwrap_err();
    assert!(
        matches!(err, basalt_etcd::EtcdError::TooManyLearners { .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&first.client_url()), "{err}");
    // Promotion of a learner that never started is refused as "not ready".
    let err = client.member_promote(added.member.id).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    client.member_remove(added.member.id).await.unwrap();
    let err = client.member_remove(added.member.id).await.unwrap_err();
    assert!(
        matches!(err, basalt_etcd::EtcdError::MemberNotFound { .. }),
        "{err}"
    );

    let nobody = Client::connect(&[format!("https://127.0.0.1:{}", free_port())], &first.tls)
        .await
        .unwrap();
    let err = nobody.member_list().await.unwrap_err();
    assert!(
        matches!(err, basalt_etcd::EtcdError::Connect { .. }) && err.is_retryable(),
        "{err}"
    );
}
