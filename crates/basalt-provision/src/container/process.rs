//! Node processes on the host: start the launcher, check it is the same process, stop it.

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

/// The start time of `pid` (field 22 of `/proc/PID/stat`), `None` when it is gone or a zombie.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: split after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); field 22 is index 19.
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// Whether `pid` still is the process started at `started` (any process when `None`).
pub fn is_alive(pid: i32, started: Option<u64>) -> bool {
    reap(pid);
    match (start_time(pid), started) {
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Collects `pid` if it is our exited child (ignored otherwise).
fn reap(pid: i32) {
    let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
}

/// Sends `signal` to `pid` if it is still the process started at `started`.
pub fn signal(pid: i32, started: Option<u64>, signal: Signal) -> bool {
    is_alive(pid, started) && kill(Pid::from_raw(pid), signal).is_ok()
}

/// Waits until none of `pids` is alive, or `timeout`; returns the ones still alive.
pub fn wait_gone(pids: &[(i32, Option<u64>)], timeout: Duration) -> Vec<i32> {
    let deadline = Instant::now() + timeout;
    loop {
        let alive: Vec<i32> = pids
            .iter()
            .filter(|(p, s)| is_alive(*p, *s))
            .map(|(p, _)| *p)
            .collect();
        if alive.is_empty() || Instant::now() >= deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn own_process_has_a_start_time_and_a_dead_child_none() {
        let me = i32::try_from(std::process::id()).unwrap();
        let t = start_time(me).unwrap();
        assert!(is_alive(me, Some(t)));
        assert!(!is_alive(me, Some(t + 1)), "a recycled pid is not ours");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        assert!(wait_gone(&[(pid, None)], Duration::from_secs(5)).is_empty());
        let _ = child.try_wait();
    }
}
