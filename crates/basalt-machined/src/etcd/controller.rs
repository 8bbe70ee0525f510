//! The controller task: decides how etcd starts (existing data, Bootstrap, or joining a
//! cluster found through apid), starts the service, and answers Bootstrap afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use basalt_etcd::args::{EtcdArgs, Initial};
use basalt_etcd::client::Client;
use basalt_etcd::join;
use tokio::sync::mpsc;

use super::error::EtcdServiceError;
use super::{console_log, service, Command, Inner, Phase};

/// How often a repeated discovery failure is logged at most.
const FAILURE_LOG_EVERY: Duration = Duration::from_secs(30);

/// Runs until the control is stopped.
pub(crate) async fn run(inner: Arc<Inner>, mut commands: mpsc::Receiver<Command>) {
    if inner.settings.data_dir.join("member").is_dir() {
        let initial = Initial::Existing {
            initial_cluster: format!("{}={}", inner.settings.name, inner.settings.peer_url()),
        };
        match start_service(&inner, initial).await {
            Ok(()) => console_log("restarting the existing member from its data"),
            Err(e) => console_log(&format!("cannot restart the existing member: {e}")),
        }
    } else {
        wait_and_start(&inner, &mut commands).await;
    }
    // Started (or stopped): Bootstrap is refused from now on.
    loop {
        tokio::select! {
            () = inner.cancel.cancelled() => break,
            command = commands.recv() => match command {
                Some(Command::Bootstrap { reply, .. }) => {
                    let phase = inner.phase.borrow().clone();
                    let _ = reply.send(Err(EtcdServiceError::BootstrapRefused {
                        node: inner.settings.name.clone(),
                        reason: format!(
                            "etcd is {phase} on this node already; bootstrap is done once per \
                             cluster (see `basaltctl etcd members`)"
                        ),
                    }));
                }
                None => break,
            },
        }
    }
    inner.phase.send_replace(Phase::Stopped);
}

/// Waits for Bootstrap or a discovered cluster, then starts etcd accordingly.
async fn wait_and_start(inner: &Arc<Inner>, commands: &mut mpsc::Receiver<Command>) {
    let where_ = inner
        .settings
        .discovery
        .as_ref()
        .map(|d| format!(" or an existing cluster at {}", d.endpoint()))
        .unwrap_or_default();
    console_log(&format!(
        "waiting for bootstrap (basaltctl bootstrap){where_}"
    ));
    inner.phase.send_replace(Phase::Waiting);
    let mut tick = tokio::time::interval(inner.settings.discovery_period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_failure: Option<(String, Instant)> = None;
    loop {
        tokio::select! {
            () = inner.cancel.cancelled() => return,
            command = commands.recv() => match command {
                Some(Command::Bootstrap { recover, skip_hash_check, reply }) => {
                    let result = bootstrap(inner, recover, skip_hash_check).await;
                    let started = result.is_ok();
                    let _ = reply.send(result);
                    if started {
                        return;
                    }
                }
                None => return,
            },
            _ = tick.tick(), if inner.settings.discovery.is_some() => {
                match try_join(inner).await {
                    Ok(true) => return,
                    Ok(false) => {}
                    Err(e) => {
                        inner.phase.send_replace(Phase::Waiting);
                        let text = e.to_string();
                        let repeat = last_failure
                            .as_ref()
                            .is_some_and(|(t, at)| *t == text && at.elapsed() < FAILURE_LOG_EVERY);
                        if !repeat {
                            console_log(&format!("joining the existing cluster failed, retrying: {text}"));
                            last_failure = Some((text, Instant::now()));
                        }
                    }
                }
            }
        }
    }
}

/// Bootstrap: a new one-member cluster, or one restored from the uploaded snapshot.
async fn bootstrap(
    inner: &Arc<Inner>,
    recover: bool,
    skip_hash_check: bool,
) -> Result<(), EtcdServiceError> {
    let s = &inner.settings;
    basalt_etcd::bootstrap::ensure_no_data(&s.data_dir)?;
    if recover {
        let snapshot = s.recover_dir.join(super::RECOVER_FILE);
        if !snapshot.is_file() {
            return Err(EtcdServiceError::NoSnapshot {
                node: s.name.clone(),
                path: snapshot,
            });
        }
        let job = super::restore::Restore {
            etcdctl: s.etcdctl_bin.clone(),
            snapshot: snapshot.clone(),
            data_dir: s.data_dir.clone(),
            name: s.name.clone(),
            peer_url: s.peer_url(),
            skip_hash_check,
        };
        let reaper = inner.supervisor.reaper().clone();
        tokio::task::spawn_blocking(move || super::restore::restore(&reaper, &job))
            .await
            .map_err(|e| EtcdServiceError::Supervisor(format!("snapshot restore task: {e}")))??;
        console_log(&format!("restored the snapshot {}", snapshot.display()));
        let _ = std::fs::remove_file(&snapshot);
    }
    start_service(inner, Initial::New).await?;
    console_log(if recover {
        "bootstrapped a one-member cluster from the snapshot"
    } else {
        "bootstrapped a new one-member cluster"
    });
    Ok(())
}

/// One discovery attempt: `Ok(true)` when it joined and started etcd.
async fn try_join(inner: &Arc<Inner>) -> Result<bool, EtcdServiceError> {
    let Some(discovery) = &inner.settings.discovery else {
        return Ok(false);
    };
    let members = discovery.members().await?;
    let name = &inner.settings.name;
    // etcd 3.4 takes one learner at a time and blocks a member add while a new member has
    // not started: wait until another node's join finished.
    if members
        .iter()
        .any(|m| m.hostname != *name && (m.is_learner || m.hostname.is_empty()))
    {
        return Ok(false);
    }
    let endpoints: Vec<String> = members
        .iter()
        .filter(|m| !m.is_learner && m.hostname != *name)
        .flat_map(|m| m.client_urls.iter().cloned())
        .collect();
    if endpoints.is_empty() {
        return Ok(false);
    }
    inner.phase.send_replace(Phase::Joining);
    console_log(&format!(
        "found an existing cluster ({}); joining as a learner",
        endpoints.join(", ")
    ));
    let client = Client::connect(&endpoints, &inner.tls).await?;
    let log = |line: &str| console_log(line);
    let plan = join::join(&client, name, &inner.settings.peer_url(), &log).await?;
    start_service(
        inner,
        Initial::Existing {
            initial_cluster: plan.initial_cluster.clone(),
        },
    )
    .await?;
    let cancel = inner.cancel.clone();
    tokio::spawn(async move {
        let log = |line: &str| console_log(line);
        if let Err(e) = join::promote_when_ready(&client, plan.member_id, &cancel, &log).await {
            console_log(&format!(
                "promoting learner {:x} failed: {e}; `basaltctl etcd members` shows it",
                plan.member_id
            ));
        }
    });
    Ok(true)
}

/// Loads the etcd service with `initial` and starts it.
async fn start_service(inner: &Arc<Inner>, initial: Initial) -> Result<(), EtcdServiceError> {
    let s = &inner.settings;
    let mut args = EtcdArgs::new(
        s.name.clone(),
        s.data_dir.clone(),
        s.advertise_ip,
        inner.certs.clone(),
        initial,
    );
    args.ports = s.ports;
    args.extra = s.extra.clone();
    let spec = service::spec(&s.etcd_bin, &args, &inner.tls)?;
    // An etcd of an earlier life of this node (before a reset or a leave, restarted by its
    // restart policy) must be gone before the new spec is loaded; stopping an unknown or
    // stopped service is harmless.
    let _ = inner.supervisor.stop(service::ETCD_ID).await;
    inner
        .supervisor
        .load(spec)
        .map_err(|e| EtcdServiceError::Supervisor(e.to_string()))?;
    inner
        .supervisor
        .start(service::ETCD_ID)
        .await
        .map_err(|e| EtcdServiceError::Supervisor(e.to_string()))?;
    inner.phase.send_replace(Phase::Running);
    Ok(())
}
