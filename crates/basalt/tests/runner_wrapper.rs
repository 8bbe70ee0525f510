//! `basalt runner`: the exec wrapper applies rlimits, the OOM score and capability drops,
//! then execs the program; errors are one line on stderr and exit code 127.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

const CAP_NET_RAW: u32 = 13;

fn runner(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_basalt"))
        .arg("runner")
        .args(args)
        .output()
        .unwrap()
}

fn cap_bnd(status: &str) -> u64 {
    let line = status.lines().find(|l| l.starts_with("CapBnd:")).unwrap();
    u64::from_str_radix(line["CapBnd:".len()..].trim(), 16).unwrap()
}

#[test]
fn applies_rlimit_oom_score_and_dropped_capability() {
    let out = runner(&[
        "--rlimit",
        "nofile=64:64",
        "--oom-score-adj",
        "500",
        "--drop-cap",
        "CAP_NET_RAW",
        "--",
        "/bin/sh",
        "-c",
        "ulimit -n; cat /proc/self/oom_score_adj; grep CapBnd /proc/self/status",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "64");
    assert_eq!(lines[1], "500");
    let ours = cap_bnd(&std::fs::read_to_string("/proc/self/status").unwrap());
    let theirs = cap_bnd(lines[2]);
    assert_eq!(
        theirs & (1 << CAP_NET_RAW),
        0,
        "CAP_NET_RAW still in {theirs:x}"
    );
    assert_eq!(
        theirs,
        ours & !(1 << CAP_NET_RAW),
        "only CAP_NET_RAW is dropped"
    );
}

#[test]
fn without_options_it_just_execs() {
    let out = runner(&["--", "/bin/sh", "-c", "echo $0 $1", "zero", "one"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "zero one\n");
}

#[test]
fn errors_are_one_line_and_exit_127() {
    for (args, expected) in [
        (
            vec!["--drop-cap", "CAP_NOPE", "--", "/bin/true"],
            "unknown capability \"CAP_NOPE\"",
        ),
        (
            vec!["--", "/nonexistent/prog"],
            "cannot execute \"/nonexistent/prog\"",
        ),
        (
            vec!["--rlimit", "nofile=1", "--", "/bin/true"],
            "NAME=SOFT:HARD",
        ),
        (vec!["/bin/true"], "unexpected argument"),
    ] {
        let out = runner(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(127), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("basalt runner: "), "{stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
