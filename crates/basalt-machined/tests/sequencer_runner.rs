//! The sequencer's rules with custom sequences: order, events, locking, takeover, failures.
//! Privileged calls are recorded, not made (RecordingSyscall).

#![allow(clippy::unwrap_used)]

mod sequencer_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use basalt_machined::sequencer::{
    Context, Phase, Sequence, SequenceKind, SequenceSet, Sequencer, SequencerError, Task,
};
use sequencer_support::{lifecycle, within, TestMachine};

type Log = Arc<Mutex<Vec<String>>>;

fn note(log: &Log, name: &'static str) -> Task {
    let log = log.clone();
    Task::new(name, move |_ctx: Context| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(name.to_string());
            Ok(())
        }
    })
}

fn forever(name: &'static str) -> Task {
    Task::new(name, |_ctx: Context| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(())
    })
}

fn failing(name: &'static str) -> Task {
    Task::new(name, |_ctx: Context| async {
        anyhow::bail!("disk on fire")
    })
}

fn sequencer(m: &TestMachine, sequences: Vec<Sequence>) -> Sequencer {
    Sequencer::new(
        m.handle.sequencer().context().clone(),
        SequenceSet::new(sequences),
    )
}

#[tokio::test]
async fn phases_and_tasks_run_in_order_with_events() {
    let m = TestMachine::new(None);
    let log: Log = Default::default();
    let boot = Sequence::new(
        SequenceKind::Boot,
        vec![
            Phase::new("one", vec![note(&log, "a"), note(&log, "b")]),
            Phase::new("two", vec![note(&log, "c")]),
        ],
    );
    let seq = sequencer(&m, vec![boot]);
    within(seq.run(SequenceKind::Boot)).await.unwrap();
    assert_eq!(*log.lock().unwrap(), ["a", "b", "c"]);
    assert_eq!(
        lifecycle(&m.handle.bus().recent(100)),
        [
            "seq boot Start",
            "phase boot/one Start",
            "task boot/one/a Start",
            "task boot/one/a Stop",
            "task boot/one/b Start",
            "task boot/one/b Stop",
            "phase boot/one Stop",
            "phase boot/two Start",
            "task boot/two/c Start",
            "task boot/two/c Stop",
            "phase boot/two Stop",
            "seq boot Stop",
        ]
    );
    assert_eq!(seq.running(), None);
}

#[tokio::test]
async fn a_second_request_gets_locked_not_a_hang() {
    let m = TestMachine::new(None);
    let boot = Sequence::new(
        SequenceKind::Boot,
        vec![Phase::new("p", vec![forever("wait")])],
    );
    let shutdown = Sequence::new(
        SequenceKind::Shutdown,
        vec![Phase::new("p", vec![forever("wait")])],
    );
    let reboot = Sequence::new(
        SequenceKind::Reboot,
        vec![Phase::new("p", vec![forever("w")])],
    );
    let seq = sequencer(&m, vec![boot, shutdown, reboot]);
    let _boot = seq.start(SequenceKind::Boot).unwrap();
    let err = seq.start(SequenceKind::Boot).unwrap_err();
    assert_eq!(
        err,
        SequencerError::Locked {
            running: "boot",
            requested: "boot"
        }
    );
    assert!(err.to_string().contains("locked"), "{err}");
    // shutdown takes boot over, after which nothing may interrupt shutdown
    let _shutdown = seq.start(SequenceKind::Shutdown).unwrap();
    for kind in [
        SequenceKind::Reboot,
        SequenceKind::Shutdown,
        SequenceKind::Boot,
    ] {
        let err = seq.start(kind).unwrap_err();
        assert!(
            matches!(
                err,
                SequencerError::Locked {
                    running: "shutdown",
                    ..
                }
            ),
            "{kind}: {err}"
        );
    }
    assert_eq!(
        seq.start(SequenceKind::Reset).unwrap_err(),
        SequencerError::NotDefined("reset")
    );
}

#[tokio::test]
async fn reboot_takes_over_a_long_boot() {
    let m = TestMachine::new(None);
    let log: Log = Default::default();
    let boot = Sequence::new(
        SequenceKind::Boot,
        vec![
            Phase::new("slow", vec![forever("wait")]),
            Phase::new("never", vec![note(&log, "after-wait")]),
        ],
    );
    let reboot = Sequence::new(
        SequenceKind::Reboot,
        vec![Phase::new("stop", vec![note(&log, "reboot-task")])],
    );
    let seq = sequencer(&m, vec![boot, reboot]);
    let boot_run = seq.start(SequenceKind::Boot).unwrap();
    // let the boot reach its long task
    within(async {
        while !lifecycle(&m.handle.bus().recent(100)).contains(&"task boot/slow/wait Start".into())
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let reboot_run = seq.start(SequenceKind::Reboot).unwrap();
    assert_eq!(
        within(boot_run.wait()).await.unwrap_err(),
        SequencerError::Cancelled {
            sequence: "boot",
            by: "reboot"
        }
    );
    within(reboot_run.wait()).await.unwrap();
    assert_eq!(*log.lock().unwrap(), ["reboot-task"]);
    let events = lifecycle(&m.handle.bus().recent(100));
    let cancelled =
        "task boot/slow/wait Stop err=sequence \"boot\" was cancelled: \"reboot\" took over";
    let pos = |s: &str| events.iter().position(|e| e.starts_with(s)).unwrap();
    assert!(events.contains(&cancelled.to_string()), "{events:#?}");
    assert!(
        pos("seq boot Stop err=") < pos("seq reboot Start"),
        "{events:#?}"
    );
    assert_eq!(events.last().unwrap(), "seq reboot Stop");
}

#[tokio::test]
async fn a_failing_task_stops_its_sequence_and_the_machine_stays_usable() {
    let m = TestMachine::new(None);
    let log: Log = Default::default();
    let boot = Sequence::new(
        SequenceKind::Boot,
        vec![
            Phase::new(
                "p",
                vec![
                    note(&log, "first"),
                    failing("broken"),
                    note(&log, "skipped"),
                ],
            ),
            Phase::new("q", vec![note(&log, "also-skipped")]),
        ],
    );
    let shutdown = Sequence::new(
        SequenceKind::Shutdown,
        vec![Phase::new("p", vec![note(&log, "shutdown")])],
    );
    let seq = sequencer(&m, vec![boot, shutdown]);
    let err = within(seq.run(SequenceKind::Boot)).await.unwrap_err();
    assert_eq!(
        err,
        SequencerError::TaskFailed {
            sequence: "boot",
            phase: "p".into(),
            task: "broken".into(),
            error: "disk on fire".into()
        }
    );
    let events = lifecycle(&m.handle.bus().recent(100));
    assert!(events.contains(&"task boot/p/broken Stop err=sequence \"boot\" stopped: task p/broken failed: disk on fire".to_string()), "{events:#?}");
    assert!(events.iter().any(|e| e.starts_with("seq boot Stop err=")));
    assert!(!events.iter().any(|e| e.contains("phase boot/q")));
    // the machine is still there: the next sequence runs
    within(seq.run(SequenceKind::Shutdown)).await.unwrap();
    assert_eq!(*log.lock().unwrap(), ["first", "shutdown"]);
}
