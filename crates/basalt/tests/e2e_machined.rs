//! End to end, as root: `basalt launch` starts machined as PID 1 of fresh namespaces with a
//! config on STATE and three image services, and the real `basaltctl --socket` drives it:
//!
//! - `db` (a perl TCP listener with a TCP health check) and `web` (prints a line every 100 ms,
//!   depends on `db` being healthy): `web` starts only after `db` is healthy;
//! - `flaky` exits with status 3 after a moment: it goes Running → Failed → Running with backoff;
//! - `logs -f` streams new lines, `get services -w` shows each transition of a restart in order;
//! - killing a service's process group, garbage on the socket and unknown services leave machined up;
//! - `reboot` runs the sequences again in place; `shutdown` ends the node with no process left.

#![allow(clippy::unwrap_used)]

mod launch_support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use launch_support::{
    build_node_with, config_text, eventually, install, pid_namespace, processes_in, Launched,
    NodeDirs,
};

/// A TCP listener using perl builtins only (no modules): accepts and closes connections.
const DB: &str = r#"name: db
command:
  - /usr/bin/perl
  - -e
  - 'socket(S, 2, 1, 6) or die "socket: $!"; setsockopt(S, 1, 2, pack("l", 1)); bind(S, pack("S n C4 x8", 2, 7001, 127, 0, 0, 1)) or die "bind: $!"; listen(S, 16) or die "listen: $!"; $| = 1; print "db listening\n"; while (accept(C, S)) { close(C) }'
health:
  tcp: "127.0.0.1:7001"
  period: 200ms
stopTimeout: 3s
"#;

const WEB: &str = r#"name: web
command: [/usr/bin/perl, -e, '$| = 1; for ($i = 0; ; $i++) { print "tick $i\n"; select(undef, undef, undef, 0.1) }']
dependsOn:
  - {service: db, condition: healthy}
stopTimeout: 3s
"#;

const FLAKY: &str = r#"name: flaky
command: [/usr/bin/perl, -e, '$| = 1; print "flaky up\n"; sleep 1; exit 3']
restart: forever
stopTimeout: 3s
"#;

/// The `basaltctl` binary built next to `basalt` (cargo builds it for the workspace tests).
fn basaltctl() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_basalt")).with_file_name("basaltctl");
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build -p basaltctl` (cargo xtask test does)",
        path.display()
    );
    path
}

struct Node {
    dirs: NodeDirs,
    launched: Launched,
    ns: String,
}

impl Node {
    fn socket(&self) -> PathBuf {
        self.dirs.sockets().join("machine.sock")
    }

    /// Runs `basaltctl --socket … args`; returns (exit code, stdout, stderr).
    fn ctl(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(basaltctl())
            .arg("--socket")
            .arg(self.socket())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs `basaltctl` and asserts success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.ctl(args);
        assert_eq!(code, 0, "basaltctl {args:?} failed: {err}\n{out}");
        out
    }

    /// Starts a streaming `basaltctl` command; its stdout lines arrive on the channel.
    fn stream(&self, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
        let mut child = Command::new(basaltctl())
            .arg("--socket")
            .arg(self.socket())
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        (child, rx)
    }

    /// Host pids of the processes named `comm` inside the node.
    fn pids(&self, comm: &str) -> Vec<i32> {
        processes_in(&self.ns)
            .into_iter()
            .filter(|(_, c)| c == comm)
            .map(|(pid, _)| pid)
            .collect()
    }

    /// The row of `service` in `basaltctl services`, split into columns.
    fn service_row(&self, service: &str) -> Vec<String> {
        let table = self.ok(&["services"]);
        table
            .lines()
            .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .find(|cols| cols.get(1).map(String::as_str) == Some(service))
            .unwrap_or_else(|| panic!("no row for {service} in:\n{table}"))
    }
}

/// Reads lines from `rx` until one satisfies `pred` (30 s at most); returns all lines read.
fn read_until(rx: &mpsc::Receiver<String>, what: &str, pred: impl Fn(&str) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => {
                let done = pred(&line);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("no line {what} within 30 s; got:\n{}", seen.join("\n")),
        }
    }
}

fn start_node() -> Node {
    let dirs = build_node_with(&[("db", DB), ("web", WEB), ("flaky", FLAKY)]);
    install(&dirs.root(), Path::new("/usr/bin/perl"), "/usr/bin/perl");
    std::fs::write(dirs.state().join("config.yaml"), config_text()).unwrap();
    let launched = Launched::start(&dirs, &["--hostname", "e2e-node"]);
    let ns = pid_namespace(launched.machined);
    let node = Node { dirs, launched, ns };
    node.launched.wait_for_line("boot sequence done", 1);
    eventually("the API socket exists", || node.socket().exists());
    node
}

#[test]
fn machined_runs_services_and_basaltctl_drives_it_over_the_socket() {
    let mut node = start_node();

    // Both long-running services run; web only started once db was healthy.
    eventually("db and web are Running", || {
        node.service_row("db")[2] == "Running" && node.service_row("web")[2] == "Running"
    });
    assert_eq!(node.service_row("db")[3], "OK", "db is healthy");
    // `events` streams like talosctl's: replay everything kept, read until web started.
    let (mut stream, event_lines) = node.stream(&["events", "--tail", "-1"]);
    let events = read_until(&event_lines, "web starting", |l| {
        l.split_whitespace().nth(3) == Some("web") && l.contains("STARTING")
    })
    .join("\n");
    stream.kill().unwrap();
    stream.wait().unwrap();
    // columns: NODE ID TYPE ACTOR/SERVICE EVENT…
    let about = |l: &str, service: &str| l.split_whitespace().nth(3) == Some(service);
    let db_healthy = events
        .lines()
        .position(|l| about(l, "db") && l.to_lowercase().contains("health check passed"))
        .unwrap_or_else(|| panic!("db never became healthy before web started:\n{events}"));
    let web_waiting = events
        .lines()
        .position(|l| about(l, "web") && l.contains("WAITING"))
        .unwrap_or_else(|| panic!("web never waited for db:\n{events}"));
    let web_starting = events.lines().count() - 1;
    assert!(
        web_waiting < db_healthy && db_healthy < web_starting,
        "web must wait, db become healthy, then web start:\n{events}"
    );

    // Resource types resolve through the served definitions, by alias too.
    let members = node.ok(&["get", "members"]);
    assert!(members.contains("e2e-node"), "{members}");
    let svc = node.ok(&["get", "svc", "db", "-o", "json"]);
    assert!(
        svc.contains("\"healthy\": true") || svc.contains("\"healthy\":true"),
        "{svc}"
    );

    // flaky: Running → Failed → Running again, with the history to prove it.
    eventually("flaky failed and was restarted", || {
        let status = node.ok(&["service", "flaky"]);
        status.contains("Failed") && status.matches("Running").count() >= 2
    });

    // logs -f streams new lines as web prints them.
    let (mut follow, lines) = node.stream(&["logs", "web", "-f", "--tail", "1"]);
    let first = read_until(&lines, "from web", |l| l.contains("tick"));
    let last_tick = |ls: &[String]| -> u64 {
        let line = ls.iter().rev().find(|l| l.contains("tick")).unwrap();
        line.rsplit(' ').next().unwrap().trim().parse().unwrap()
    };
    let start = last_tick(&first);
    let later = read_until(&lines, "newer than the first", |l| {
        l.rsplit(' ')
            .next()
            .and_then(|n| n.trim().parse::<u64>().ok())
            .is_some_and(|n| n >= start + 3)
    });
    assert!(last_tick(&later) >= start + 3);
    follow.kill().unwrap();
    follow.wait().unwrap();

    // get services -w: a restart of web shows up as ordered transitions.
    let (mut watch, rows) = node.stream(&["get", "services", "-w"]);
    read_until(&rows, "with web", |l| l.contains(" web "));
    let web_pid = node.pids("perl");
    node.ok(&["service", "web", "restart"]);
    let transitions = read_until(&rows, "web running again", |l| {
        l.contains(" web ") && l.contains("updated") && l.contains("true")
    });
    let web_rows: Vec<&String> = transitions.iter().filter(|l| l.contains(" web ")).collect();
    assert!(
        web_rows.iter().any(|l| l.contains("false")),
        "no stopped state seen for web: {web_rows:?}"
    );
    let versions: Vec<u64> = web_rows
        .iter()
        .filter(|l| l.contains("updated"))
        .map(|l| {
            l.split_whitespace()
                .find_map(|w| w.parse::<u64>().ok())
                .unwrap()
        })
        .collect();
    assert!(
        versions.windows(2).all(|w| w[1] == w[0] + 1),
        "watch skipped or reordered versions: {versions:?}"
    );
    watch.kill().unwrap();
    watch.wait().unwrap();
    assert_ne!(node.pids("perl"), web_pid, "web got a new process");

    // Nothing a client or a service does takes machined down.
    let db_pid = node
        .pids("perl")
        .into_iter()
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .unwrap_or_default()
                .contains("listen")
        })
        .unwrap();
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(db_pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let mut garbage = UnixStream::connect(node.socket()).unwrap();
    garbage
        .write_all(b"GET / HTTP/1.1\r\n\r\n\xff\xfe\x00garbage")
        .unwrap();
    drop(garbage);
    let (code, _, err) = node.ctl(&["service", "nope", "restart"]);
    assert_eq!(code, 1);
    assert!(err.contains("NotFound") && err.contains("db"), "{err}");
    let (code, _, err) = node.ctl(&["get", "nosuchtype"]);
    assert_eq!(code, 1, "{err}");
    eventually("db restarted after its process group was killed", || {
        node.service_row("db")[2] == "Running"
    });
    assert!(node.ok(&["version"]).contains("Server"));

    // reboot: the sequences run again in place; machined stays PID 1 of the node.
    node.ok(&["reboot"]);
    node.launched.wait_for_line("sequence reboot: done", 1);
    eventually("services run again after reboot", || {
        node.service_row("web")[2] == "Running"
    });
    let machined_log = node.ok(&["logs", "machined"]);
    assert!(machined_log.contains("sequence reboot"), "{machined_log}");

    // shutdown: every service stops, the node's namespace ends with no process left.
    node.ok(&["shutdown"]);
    assert_eq!(node.launched.wait_exit(), 0);
    assert_eq!(
        processes_in(&node.ns),
        vec![],
        "processes left in the node's pid namespace"
    );
}
