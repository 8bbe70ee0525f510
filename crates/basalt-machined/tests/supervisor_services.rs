//! The supervisor with real processes: dependencies on health, crash restarts with backoff,
//! restart policies, restart, SIGKILL escalation, external kills, stop_all, logs, errors.
#![allow(clippy::unwrap_used)]

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use basalt_machined::events::{EventBus, MachineEvent, ServiceState};
use basalt_machined::process::Reaper;
use basalt_machined::supervisor::{
    Backoff, Dependency, HealthCheck, Probe, RestartPolicy, ServiceInfo, ServiceSpec, Supervisor,
    SupervisorConfig, SupervisorError, SERVICES_NAMESPACE, SERVICES_TYPE,
};
use basalt_resources::Store;
use futures::StreamExt;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

const LONG: Duration = Duration::from_secs(30);

fn supervisor() -> (Supervisor, Store, EventBus) {
    let store = Store::new();
    let bus = EventBus::new(4096);
    let sup = Supervisor::new(
        store.clone(),
        bus.clone(),
        Reaper::start().unwrap(),
        SupervisorConfig {
            log_dir: None,
            wrapper: PathBuf::from("/nonexistent/basalt"),
        },
    );
    (sup, store, bus)
}

fn sh(id: &str, script: &str) -> ServiceSpec {
    let mut spec = ServiceSpec::new(id, vec!["/bin/sh".into(), "-c".into(), script.into()]);
    spec.env = vec![("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into())];
    spec.backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(2),
    };
    spec.stop_timeout = Duration::from_secs(2);
    spec
}

fn info(sup: &Supervisor, id: &str) -> ServiceInfo {
    sup.info(id).unwrap()
}

async fn wait_for(
    sup: &Supervisor,
    id: &str,
    what: &str,
    cond: impl Fn(&ServiceInfo) -> bool,
) -> ServiceInfo {
    let start = Instant::now();
    loop {
        let i = info(sup, id);
        if cond(&i) {
            return i;
        }
        assert!(
            start.elapsed() < LONG,
            "timed out waiting for {id} to be {what}; history: {:#?}",
            i.events
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_state(sup: &Supervisor, id: &str, state: ServiceState) -> ServiceInfo {
    wait_for(sup, id, state.as_str(), |i| i.state == state).await
}

/// The pid from the last "started, pid N" record.
fn pid_of(i: &ServiceInfo) -> i32 {
    let record = i
        .events
        .iter()
        .rev()
        .find(|e| e.message.starts_with("started, pid "))
        .unwrap();
    record.message["started, pid ".len()..].parse().unwrap()
}

/// Processes whose process group is `pgid`, from /proc.
fn group_members(pgid: i32) -> Vec<i32> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2) == Some(&pgid.to_string().as_str()) {
            members.push(entry.file_name().to_string_lossy().parse().unwrap_or(-1));
        }
    }
    members
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn states(i: &ServiceInfo) -> Vec<ServiceState> {
    i.events.iter().map(|e| e.state).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependent_waits_for_health_and_stop_all_leaves_nothing() {
    let (sup, store, bus) = supervisor();
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // A listens only after a delay, so B must really wait for A's health.
    let listener = format!(
        "import socket, time\ntime.sleep(0.5)\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('127.0.0.1', {port}))\ns.listen()\nprint('listening', flush=True)\ntime.sleep(600)\n"
    );
    let mut a = ServiceSpec::new(
        "a",
        vec![
            "/usr/bin/env".into(),
            "python3".into(),
            "-c".into(),
            listener,
        ],
    );
    a.env = vec![("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into())];
    a.health = Some(HealthCheck {
        probe: Probe::Tcp(addr),
        period: Duration::from_millis(100),
        timeout: Duration::from_secs(1),
        initial_delay: Duration::ZERO,
    });
    a.stop_timeout = Duration::from_secs(2);
    let mut b = sh("b", "echo b up; exec sleep 600");
    b.depends_on = vec![Dependency::ServiceHealthy("a".into())];
    sup.load(a).unwrap();
    sup.load(b).unwrap();
    sup.start_all().await;

    let b_info = wait_state(&sup, "b", ServiceState::Running).await;
    assert!(
        states(&b_info).contains(&ServiceState::Waiting),
        "{:#?}",
        b_info.events
    );
    let a_info = info(&sup, "a");
    assert!(a_info.health.healthy && !a_info.health.unknown);
    // On the bus, A turned healthy before B started running.
    let events = bus.recent(4096);
    let position =
        |pred: &dyn Fn(&MachineEvent) -> bool| events.iter().position(|(_, e)| pred(e)).unwrap();
    let a_healthy = position(
        &|e| matches!(e, MachineEvent::ServiceState { service, health: Some(h), .. } if service == "a" && h.healthy),
    );
    let b_running = position(
        &|e| matches!(e, MachineEvent::ServiceState { service, state: ServiceState::Running, .. } if service == "b"),
    );
    assert!(a_healthy < b_running);
    // The resources say the same, and the definition resolves by alias.
    let a_res = store.get(SERVICES_NAMESPACE, SERVICES_TYPE, "a").unwrap();
    assert_eq!(a_res.spec["healthy"], true);
    assert_eq!(a_res.metadata.owner, "supervisor");
    assert_eq!(store.resolve("svc").unwrap().type_, SERVICES_TYPE);

    let (pid_a, pid_b) = (pid_of(&info(&sup, "a")), pid_of(&b_info));
    sup.stop_all().await;
    assert_eq!(info(&sup, "a").state, ServiceState::Finished);
    assert_eq!(info(&sup, "b").state, ServiceState::Finished);
    assert!(group_members(pid_a).is_empty() && group_members(pid_b).is_empty());
    // B (the dependent) stopped before A.
    let events = bus.recent(4096);
    let stopping = |id: &str| {
        events
            .iter()
            .position(|(_, e)| matches!(e, MachineEvent::ServiceState { service, state: ServiceState::Stopping, .. } if service == id))
            .unwrap()
    };
    let finished_b = events
        .iter()
        .rposition(|(_, e)| matches!(e, MachineEvent::ServiceState { service, state: ServiceState::Finished, .. } if service == "b"))
        .unwrap();
    assert!(stopping("b") < stopping("a") && finished_b < stopping("a"));
    let a_res = store.get(SERVICES_NAMESPACE, SERVICES_TYPE, "a").unwrap();
    assert_eq!(a_res.spec["running"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashing_service_restarts_with_growing_backoff() {
    let (sup, _store, _bus) = supervisor();
    sup.load(sh("crash", "echo crashing; exit 3")).unwrap();
    sup.start("crash").await.unwrap();
    let i = wait_for(&sup, "crash", "failed 3 times", |i| {
        i.events
            .iter()
            .filter(|e| e.state == ServiceState::Failed)
            .count()
            >= 3
    })
    .await;
    let failures: Vec<&str> = i
        .events
        .iter()
        .filter(|e| e.state == ServiceState::Failed)
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(failures[0], "exited with code 3; restarting in 100 ms");
    assert_eq!(failures[1], "exited with code 3; restarting in 200 ms");
    assert_eq!(failures[2], "exited with code 3; restarting in 400 ms");
    // Running → Failed → (Starting) → Running in the history.
    let s = states(&i);
    let first_failed = s.iter().position(|x| *x == ServiceState::Failed).unwrap();
    assert_eq!(s[first_failed - 1], ServiceState::Running);
    assert!(s[first_failed..].contains(&ServiceState::Running));
    sup.stop("crash").await.unwrap();
    assert_eq!(info(&sup, "crash").state, ServiceState::Finished);
    assert!(
        sup.logs("crash", None, false)
            .unwrap()
            .collect::<Vec<_>>()
            .await
            .len()
            >= 3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_and_until_success_policies() {
    let (sup, _store, _bus) = supervisor();
    let mut once_fail = sh("once-fail", "exit 3");
    once_fail.restart = RestartPolicy::Once;
    let mut once_ok = sh("once-ok", "exit 0");
    once_ok.restart = RestartPolicy::Once;
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("count");
    let mut until = sh(
        "until",
        &format!(
            "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}; [ $n -ge 3 ]",
            c = counter.display()
        ),
    );
    until.restart = RestartPolicy::UntilSuccess;
    for spec in [once_fail, once_ok, until] {
        sup.load(spec).unwrap();
    }
    sup.start_all().await;

    let i = wait_state(&sup, "once-fail", ServiceState::Failed).await;
    assert!(i.events.last().unwrap().message.contains("not restarting"));
    let i = wait_state(&sup, "once-ok", ServiceState::Finished).await;
    assert_eq!(i.events.last().unwrap().message, "exited with code 0");
    let i = wait_state(&sup, "until", ServiceState::Finished).await;
    let runs = |i: &ServiceInfo| {
        states(i)
            .iter()
            .filter(|s| **s == ServiceState::Running)
            .count()
    };
    assert_eq!(runs(&i), 3);
    assert_eq!(
        states(&i)
            .iter()
            .filter(|s| **s == ServiceState::Failed)
            .count(),
        2
    );
    // Terminal states stay: nothing restarts later.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(runs(&info(&sup, "until")), 3);
    assert_eq!(runs(&info(&sup, "once-fail")), 1);
    assert_eq!(std::fs::read_to_string(&counter).unwrap().trim(), "3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_replaces_the_process() {
    let (sup, _store, _bus) = supervisor();
    sup.load(sh("svc", "exec sleep 600")).unwrap();
    sup.start("svc").await.unwrap();
    let first = pid_of(&wait_state(&sup, "svc", ServiceState::Running).await);
    // Starting an active service is a no-op, noted in the history.
    sup.start("svc").await.unwrap();
    assert!(info(&sup, "svc")
        .events
        .last()
        .unwrap()
        .message
        .contains("already active"));
    sup.restart("svc").await.unwrap();
    let second = pid_of(&wait_state(&sup, "svc", ServiceState::Running).await);
    assert_ne!(first, second);
    assert!(group_members(first).is_empty());
    let s = states(&info(&sup, "svc"));
    let stopping = s.iter().position(|x| *x == ServiceState::Stopping).unwrap();
    assert_eq!(s[stopping + 1], ServiceState::Finished);
    sup.stop("svc").await.unwrap();
    // Stopping a stopped service is a no-op, noted in the history.
    sup.stop("svc").await.unwrap();
    assert!(info(&sup, "svc")
        .events
        .last()
        .unwrap()
        .message
        .contains("not active"));
    assert!(group_members(second).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_escalates_to_sigkill_when_sigterm_is_ignored() {
    let (sup, _store, _bus) = supervisor();
    let mut spec = sh(
        "stubborn",
        "trap '' TERM; echo ready; while :; do sleep 0.1; done",
    );
    spec.stop_timeout = Duration::from_millis(300);
    sup.load(spec).unwrap();
    sup.start("stubborn").await.unwrap();
    let mut logs = sup.logs("stubborn", None, true).unwrap();
    let ready = tokio::time::timeout(LONG, logs.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ready, "ready");
    let pid = pid_of(&info(&sup, "stubborn"));
    let started = Instant::now();
    sup.stop("stubborn").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    let i = info(&sup, "stubborn");
    assert_eq!(i.state, ServiceState::Finished);
    assert_eq!(
        i.events.last().unwrap().message,
        "stopped: killed by signal SIGKILL (9)"
    );
    assert!(group_members(pid).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_process_group_from_outside_restarts_the_service() {
    let (sup, _store, _bus) = supervisor();
    sup.load(sh("victim", "sleep 600 & wait")).unwrap();
    sup.start("victim").await.unwrap();
    let first = pid_of(&wait_state(&sup, "victim", ServiceState::Running).await);
    killpg(Pid::from_raw(first), Signal::SIGKILL).unwrap();
    let i = wait_for(&sup, "victim", "running again", |i| {
        i.state == ServiceState::Running && pid_of(i) != first
    })
    .await;
    let failed = i
        .events
        .iter()
        .find(|e| e.state == ServiceState::Failed)
        .unwrap();
    assert!(
        failed.message.starts_with("killed by signal SIGKILL (9)"),
        "{}",
        failed.message
    );
    assert!(group_members(first).is_empty());
    sup.stop("victim").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_and_bad_specs_are_clear_errors() {
    let (sup, _store, _bus) = supervisor();
    sup.load(sh("alpha", "exit 0")).unwrap();
    sup.load(sh("beta", "exit 0")).unwrap();
    let err = sup.start("gamma").await.unwrap_err();
    assert!(matches!(err, SupervisorError::NotFound { .. }));
    assert_eq!(
        err.to_string(),
        "service \"gamma\" is not loaded; known services: alpha, beta"
    );
    assert!(sup.stop("gamma").await.is_err());
    assert!(sup.logs("gamma", None, false).is_err());
    assert!(matches!(
        sup.load(sh("../etc", "true")),
        Err(SupervisorError::InvalidId(_))
    ));
    let mut x = sh("x", "true");
    x.depends_on = vec![Dependency::ServiceRunning("y".into())];
    let mut y = sh("y", "true");
    y.depends_on = vec![Dependency::ServiceHealthy("x".into())];
    sup.load(x).unwrap();
    let err = sup.load(y).unwrap_err().to_string();
    assert!(
        err.contains("cycle") && err.contains("x -> y -> x"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_command_line_is_skipped() {
    let (sup, _store, _bus) = supervisor();
    sup.load(ServiceSpec::new("nothing", vec![])).unwrap();
    sup.start("nothing").await.unwrap();
    let i = wait_state(&sup, "nothing", ServiceState::Skipped).await;
    assert_eq!(
        states(&i),
        vec![
            ServiceState::Initialized,
            ServiceState::Preparing,
            ServiceState::Skipped
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_tail_and_follow_a_service() {
    let (sup, _store, _bus) = supervisor();
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("go");
    sup.load(sh(
        "chatty",
        &format!(
            "echo line1; echo line2; echo line3; while [ ! -e {f} ]; do sleep 0.05; done; echo late; exec sleep 600",
            f = flag.display()
        ),
    ))
    .unwrap();
    sup.start("chatty").await.unwrap();
    let start = Instant::now();
    while sup
        .logs("chatty", None, false)
        .unwrap()
        .collect::<Vec<_>>()
        .await
        .len()
        < 3
    {
        assert!(start.elapsed() < LONG);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut stream = sup.logs("chatty", Some(2), true).unwrap();
    std::fs::write(&flag, b"").unwrap();
    let got: Vec<_> = tokio::time::timeout(LONG, stream.by_ref().take(3).collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(got, vec!["line2", "line3", "late"]);
    // Log files appear once a directory is set, with the lines kept so far.
    sup.set_log_dir(dir.path().to_path_buf());
    let file = dir.path().join("chatty.log");
    let start = Instant::now();
    while !std::fs::read_to_string(&file)
        .unwrap_or_default()
        .contains("late")
    {
        assert!(start.elapsed() < LONG, "{file:?} never got the lines");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sup.stop("chatty").await.unwrap();
}
