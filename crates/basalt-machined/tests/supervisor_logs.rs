//! Service logs: tail, follow, the dropped-lines marker for slow followers, file rotation,
//! and output of a real process captured line by line.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use basalt_machined::logs::{LogLimits, LogStore};
use basalt_machined::process::{self, CommandLine, ExitStatus, Reaper};
use bytes::Bytes;
use futures::StreamExt;

const LONG: Duration = Duration::from_secs(20);

fn text(lines: &[Bytes]) -> Vec<String> {
    lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect()
}

#[tokio::test]
async fn tail_keeps_the_newest_lines_within_the_limits() {
    let limits = LogLimits {
        max_lines: 3,
        ..LogLimits::default()
    };
    let log = LogStore::new(limits).log("svc");
    for i in 1..=5 {
        log.push(format!("line {i}").as_bytes());
    }
    assert_eq!(text(&log.tail(None)), vec!["line 3", "line 4", "line 5"]);
    assert_eq!(text(&log.tail(Some(2))), vec!["line 4", "line 5"]);

    let by_bytes = LogStore::new(LogLimits {
        max_bytes: 10,
        ..LogLimits::default()
    })
    .log("svc");
    for l in ["aaaa", "bbbb", "cccc"] {
        by_bytes.push(l.as_bytes());
    }
    assert_eq!(text(&by_bytes.tail(None)), vec!["bbbb", "cccc"]);
}

#[tokio::test]
async fn follow_sees_new_lines_after_the_tail() {
    let log = LogStore::default().log("svc");
    log.push(b"old 1");
    log.push(b"old 2");
    let mut stream = log.stream(Some(1), true);
    log.push(b"new");
    let got: Vec<Bytes> = tokio::time::timeout(LONG, stream.by_ref().take(2).collect())
        .await
        .unwrap();
    assert_eq!(text(&got), vec!["old 2", "new"]);
    // Without follow, the stream ends after the tail.
    let all: Vec<Bytes> = log.stream(None, false).collect().await;
    assert_eq!(text(&all), vec!["old 1", "old 2", "new"]);
}

#[tokio::test]
async fn a_lagging_follower_gets_a_dropped_marker() {
    let log = LogStore::new(LogLimits {
        follow_buffer: 4,
        ..LogLimits::default()
    })
    .log("svc");
    let mut follower = log.follow();
    for i in 0..10 {
        log.push(format!("l{i}").as_bytes());
    }
    let first = follower.next().await.unwrap();
    assert_eq!(first, Bytes::from("... 6 lines dropped ..."));
    assert_eq!(follower.next().await.unwrap(), Bytes::from("l6"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_rotate_at_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::new(LogLimits {
        rotate_bytes: 1000,
        ..LogLimits::default()
    });
    let log = store.log("svc");
    log.push(b"before the directory was set");
    store.set_log_dir(dir.path().to_path_buf()).unwrap();
    for i in 0..100 {
        // 49 bytes + newline = 50 bytes per line: 20 lines per file.
        log.push(format!("{i:03} {}", "x".repeat(45)).as_bytes());
    }
    let current = dir.path().join("svc.log");
    let rotated = dir.path().join("svc.log.1");
    let start = Instant::now();
    loop {
        let content = std::fs::read_to_string(&current).unwrap_or_default();
        if content
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("099 "))
        {
            break;
        }
        assert!(
            start.elapsed() < LONG,
            "the last line never reached {current:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let current_len = std::fs::metadata(&current).unwrap().len();
    let rotated_text = std::fs::read_to_string(&rotated).unwrap();
    assert!(current_len <= 1000, "svc.log has {current_len} bytes");
    assert!(rotated_text.len() <= 1000 && rotated_text.len() > 900);
    let newest_rotated: u32 = rotated_text.lines().last().unwrap()[..3].parse().unwrap();
    let oldest_current: u32 = std::fs::read_to_string(&current)
        .unwrap()
        .lines()
        .next()
        .unwrap()[..3]
        .parse()
        .unwrap();
    assert_eq!(
        newest_rotated + 1,
        oldest_current,
        "rotation lost or repeated lines"
    );
    assert!(
        !dir.path().join("svc.log.2").exists(),
        "only one rotated file is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_output_is_captured_line_by_line() {
    let reaper = Reaper::start().unwrap();
    let log = LogStore::default().log("echo");
    let cmd = CommandLine {
        argv: vec![
            "/bin/sh".into(),
            "-c".into(),
            "echo out-1; echo err-1 >&2; printf 'no newline at end'; echo \"$GREETING\" >&2".into(),
        ],
        env: vec![("GREETING".into(), "hello from env".into())],
        cwd: Some("/".into()),
    };
    let mut proc = process::spawn(&reaper, &cmd, &log).unwrap();
    assert_eq!(
        tokio::time::timeout(LONG, proc.wait())
            .await
            .unwrap()
            .unwrap(),
        ExitStatus::Exited(0)
    );
    let start = Instant::now();
    while log.tail(None).len() < 4 {
        assert!(
            start.elapsed() < LONG,
            "got only {:?}",
            text(&log.tail(None))
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut lines = text(&log.tail(None));
    lines.sort();
    assert_eq!(
        lines,
        vec!["err-1", "hello from env", "no newline at end", "out-1"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_errors_name_the_program() {
    let reaper = Reaper::start().unwrap();
    let log = LogStore::default().log("missing");
    let cmd = CommandLine {
        argv: vec!["/nonexistent/program".into()],
        ..CommandLine::default()
    };
    let err = process::spawn(&reaper, &cmd, &log).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/program"), "{err}");
    assert!(err.contains("exists"), "{err}");
}
