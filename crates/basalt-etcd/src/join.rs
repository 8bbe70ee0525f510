//! Joining an existing cluster: replace a stale member of the same name (or peer URL),
//! add this node as a learner (retrying while etcd says the cluster is not healthy yet),
//! then, once etcd runs, promote the learner when it has caught up.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::client::{Client, Member};
use crate::error::EtcdError;

/// Where progress messages go (machined passes its service logger).
pub type Log<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// How long [`join`] keeps retrying a refused learner add before giving up.
pub const ADD_RETRY_LIMIT: Duration = Duration::from_secs(120);
/// First and largest wait between learner-add attempts.
pub const ADD_BACKOFF: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(1));
/// Wait between promotion attempts.
pub const PROMOTE_INTERVAL: Duration = Duration::from_secs(1);

/// What the joining member needs to start: its ID and `--initial-cluster`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinPlan {
    /// The new (learner) member's ID.
    pub member_id: u64,
    /// `name=peer_url,...` for every member, this one included (`--initial-cluster-state existing`).
    pub initial_cluster: String,
}

/// Adds `name` at `peer_url` to the cluster `client` reaches, as a learner.
///
/// A member with the same name or the same peer URL (a previous life of this node) is
/// removed first. etcd refuses member changes until every voter has been connected for
/// ~5 s ("unhealthy cluster") and allows one learner at a time: both are retried with
/// backoff for up to [`ADD_RETRY_LIMIT`].
pub async fn join(
    client: &Client,
    name: &str,
    peer_url: &str,
    log: Log<'_>,
) -> Result<JoinPlan, EtcdError> {
    let members = client.member_list().await?;
    for stale in members.iter().filter(|m| is_stale(m, name, peer_url)) {
        log(&format!(
            "removing stale etcd member {:x} (name {:?}, peer URLs {}) before joining as {name}",
            stale.id,
            stale.name,
            stale.peer_urls.join(",")
        ));
        match client.member_remove(stale.id).await {
            Ok(_) | Err(EtcdError::MemberNotFound { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    let started = Instant::now();
    let mut wait = ADD_BACKOFF.0;
    let added = loop {
        match client.member_add_learner(&[peer_url.to_string()]).await {
            Ok(added) => break added,
            Err(err) if err.is_retryable() && started.elapsed() < ADD_RETRY_LIMIT => {
                log(&format!(
                    "etcd refused to add {name} as a learner yet, retrying in {wait:?}: {err}"
                ));
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(ADD_BACKOFF.1);
            }
            Err(err) => return Err(err),
        }
    };
    log(&format!(
        "added {name} ({peer_url}) to etcd as learner {:x} after {:.1?}",
        added.member.id,
        started.elapsed()
    ));
    Ok(JoinPlan {
        member_id: added.member.id,
        initial_cluster: initial_cluster(&added.members, added.member.id, name),
    })
}

fn is_stale(member: &Member, name: &str, peer_url: &str) -> bool {
    (!member.name.is_empty() && member.name == name)
        || member.peer_urls.iter().any(|u| u == peer_url)
}

/// `name=url,...` for every member; the new member gets `name`, other members that never
/// started (no name yet) get a placeholder so etcd sees the right member count.
pub fn initial_cluster(members: &[Member], new_id: u64, name: &str) -> String {
    let mut parts = Vec::new();
    for member in members {
        let member_name = if member.id == new_id {
            name.to_string()
        } else if member.name.is_empty() {
            format!("unstarted-{:x}", member.id)
        } else {
            member.name.clone()
        };
        for url in &member.peer_urls {
            parts.push(format!("{member_name}={url}"));
        }
    }
    parts.join(",")
}

/// Promotes learner `member_id` once it has caught up: tries every
/// [`PROMOTE_INTERVAL`] until etcd accepts (or says it is already a voter), logging
/// progress; stops with [`EtcdError::Cancelled`] when `cancel` fires.
pub async fn promote_when_ready(
    client: &Client,
    member_id: u64,
    cancel: &CancellationToken,
    log: Log<'_>,
) -> Result<(), EtcdError> {
    let started = Instant::now();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        match client.member_promote(member_id).await {
            Ok(_) => {
                log(&format!(
                    "etcd learner {member_id:x} promoted to voter after {:.1?} ({attempts} attempts)",
                    started.elapsed()
                ));
                return Ok(());
            }
            Err(EtcdError::Rpc { ref message, .. })
                if message.contains("can only promote a learner member") =>
            {
                log(&format!("etcd member {member_id:x} is already a voter"));
                return Ok(());
            }
            Err(err) if err.is_retryable() => {
                if attempts == 1 || attempts % 10 == 0 {
                    log(&format!(
                        "waiting for etcd learner {member_id:x} to catch up before promotion \
                         ({:.0?} so far): {err}",
                        started.elapsed()
                    ));
                }
            }
            Err(err) => return Err(err),
        }
        tokio::select! {
            () = cancel.cancelled() => {
                return Err(EtcdError::Cancelled(format!(
                    "waiting to promote etcd learner {member_id:x}"
                )));
            }
            () = tokio::time::sleep(PROMOTE_INTERVAL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: u64, name: &str, url: &str) -> Member {
        Member {
            id,
            name: name.to_string(),
            peer_urls: vec![url.to_string()],
            client_urls: Vec::new(),
            is_learner: false,
        }
    }

    #[test]
    fn initial_cluster_names_every_member() {
        let members = [
            member(1, "cp-0", "https://10.5.0.2:2380"),
            member(2, "", "https://10.5.0.3:2380"),
            member(3, "", "https://10.5.0.4:2380"),
        ];
        assert_eq!(
            initial_cluster(&members, 3, "cp-2"),
            "cp-0=https://10.5.0.2:2380,unstarted-2=https://10.5.0.3:2380,cp-2=https://10.5.0.4:2380"
        );
    }

    #[test]
    fn stale_members_match_by_name_or_peer_url() {
        let m = member(1, "cp-1", "https://10.5.0.3:2380");
        assert!(is_stale(&m, "cp-1", "https://10.5.0.9:2380"));
        assert!(is_stale(&m, "other", "https://10.5.0.3:2380"));
        assert!(!is_stale(&m, "cp-2", "https://10.5.0.4:2380"));
        assert!(!is_stale(
            &member(2, "", "https://x:2380"),
            "",
            "https://y:2380"
        ));
    }
}
