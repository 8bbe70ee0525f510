//! The reaper with real processes: exit codes and signals, the fast-exit race, orphans, and
//! no zombies left behind. The test process becomes a child subreaper, as machined does when
//! it is not PID 1.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use basalt_machined::process::{ExitStatus, Reaper};
use nix::unistd::Pid;

const LONG: Duration = Duration::from_secs(20);

fn sh(script: &str) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(script).stdin(Stdio::null());
    cmd
}

/// Zombie children of this process (state Z in /proc/<pid>/stat with our pid as parent).
fn zombie_children() -> Vec<i32> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") && fields.get(1) == Some(&me.as_str()) {
            found.push(entry.file_name().to_string_lossy().parse().unwrap_or(-1));
        }
    }
    found
}

fn gone(pid: i32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < LONG, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_exit_codes_and_signals() {
    let reaper = Reaper::start().unwrap();
    let (_child, code) = reaper.spawn(&mut sh("exit 7")).unwrap();
    let (_child, ok) = reaper.spawn(&mut sh("exit 0")).unwrap();
    let (_child, signalled) = reaper.spawn(&mut sh("kill -TERM $$")).unwrap();
    let (_child, killed) = reaper.spawn(&mut sh("kill -KILL $$")).unwrap();
    let timeout = |rx| tokio::time::timeout(LONG, rx);
    assert_eq!(timeout(code).await.unwrap().unwrap(), ExitStatus::Exited(7));
    assert_eq!(timeout(ok).await.unwrap().unwrap(), ExitStatus::Exited(0));
    let status = timeout(signalled).await.unwrap().unwrap();
    assert_eq!(status, ExitStatus::Signaled(15));
    assert_eq!(status.to_string(), "killed by signal SIGTERM (15)");
    assert_eq!(
        timeout(killed).await.unwrap().unwrap(),
        ExitStatus::Signaled(9)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_of_a_fast_exit_waits_for_a_late_register() {
    let reaper = Reaper::start().unwrap();
    // Spawned without the reaper's help: it may exit and be reaped before anyone registers.
    let child = sh("exit 42").spawn().unwrap();
    let pid = child.id() as i32;
    drop(child);
    wait_until("the fast child is reaped", || gone(pid)).await;
    let status = tokio::time::timeout(LONG, reaper.register(Pid::from_raw(pid)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, ExitStatus::Exited(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphaned_grandchildren_are_reaped() {
    let reaper = Reaper::start().unwrap();
    let before = reaper.stats().unregistered;
    // The shell starts a background sleep, prints its pid and exits: the sleep is re-parented
    // to us (the subreaper) and must be reaped when it ends.
    let mut cmd = sh("sleep 0.3 & echo $!");
    cmd.stdout(Stdio::piped());
    let (mut child, exit) = reaper.spawn(&mut cmd).unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    drop(child);
    let grandchild: i32 = out.trim().parse().unwrap();
    assert_eq!(
        tokio::time::timeout(LONG, exit).await.unwrap().unwrap(),
        ExitStatus::Exited(0)
    );
    wait_until("the orphan is reaped", || gone(grandchild)).await;
    assert!(reaper.stats().unregistered > before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaves_no_zombies() {
    let reaper = Reaper::start().unwrap();
    let mut exits = Vec::new();
    for i in 0..20 {
        let (_child, rx) = reaper.spawn(&mut sh(&format!("exit {}", i % 3))).unwrap();
        exits.push((i % 3, rx));
    }
    for (code, rx) in exits {
        let status = tokio::time::timeout(LONG, rx).await.unwrap().unwrap();
        assert_eq!(status, ExitStatus::Exited(code));
    }
    // Other tests of this file run in parallel; their children are zombies for at most a
    // moment, so wait for a scan that finds none.
    wait_until("no zombie children are left", || {
        zombie_children().is_empty()
    })
    .await;
}

#[test]
fn start_is_idempotent() {
    let a = Reaper::start().unwrap();
    let b = Reaper::start().unwrap();
    assert_eq!(a.stats().reaped, b.stats().reaped);
    assert!(nix::sys::prctl::get_child_subreaper().unwrap() || std::process::id() == 1);
}
