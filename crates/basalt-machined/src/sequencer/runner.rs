//! [`Sequencer`]: runs one sequence at a time, with takeover.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::{Context, Sequence, SequenceKind, SequenceSet, SequencerError};
use crate::events::{MachineEvent, PhaseAction, SequenceAction, TaskAction};
use crate::pid1::console;

/// Runs sequences one at a time. Cheap to clone.
///
/// A request while a sequence runs is refused with [`SequencerError::Locked`], except that
/// reboot, shutdown and reset take over initialize and boot: the running one is cancelled
/// (its current task is dropped at its next await point), and the new one starts after it
/// has ended.
#[derive(Clone, Debug)]
pub struct Sequencer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ctx: Context,
    set: SequenceSet,
    slot: Mutex<Option<Slot>>,
    next_id: Mutex<u64>,
}

/// The running (or about to run) sequence.
#[derive(Debug)]
struct Slot {
    id: u64,
    kind: SequenceKind,
    cancel: CancellationToken,
    taken_over_by: Arc<OnceLock<SequenceKind>>,
    done: watch::Receiver<bool>,
}

/// A started sequence; [`wait`](RunHandle::wait) for its result.
#[derive(Debug)]
pub struct RunHandle {
    kind: SequenceKind,
    result: oneshot::Receiver<Result<(), SequencerError>>,
}

impl RunHandle {
    /// The sequence's result.
    pub async fn wait(self) -> Result<(), SequencerError> {
        self.result
            .await
            .unwrap_or(Err(SequencerError::Aborted(self.kind.name())))
    }
}

impl Sequencer {
    /// A sequencer running `set` with `ctx` (its `cancel` is replaced per run).
    pub fn new(ctx: Context, set: SequenceSet) -> Self {
        Sequencer {
            inner: Arc::new(Inner {
                ctx,
                set,
                slot: Mutex::new(None),
                next_id: Mutex::new(0),
            }),
        }
    }

    /// The context tasks get (with a fresh `cancel` per run).
    pub fn context(&self) -> &Context {
        &self.inner.ctx
    }

    /// The sequence running now, if any.
    pub fn running(&self) -> Option<SequenceKind> {
        self.lock_slot().as_ref().map(|s| s.kind)
    }

    /// Resolves once no sequence runs (at once when idle).
    pub async fn idle(&self) {
        loop {
            let done = self.lock_slot().as_ref().map(|s| s.done.clone());
            match done {
                None => return,
                Some(mut done) => {
                    let _ = done.wait_for(|d| *d).await;
                }
            }
        }
    }

    /// Runs `kind` to the end.
    pub async fn run(&self, kind: SequenceKind) -> Result<(), SequencerError> {
        self.start(kind)?.wait().await
    }

    /// Starts `kind` in the background (needs a tokio runtime); fails at once with
    /// [`SequencerError::Locked`] when another sequence runs and `kind` may not take it over.
    pub fn start(&self, kind: SequenceKind) -> Result<RunHandle, SequencerError> {
        let Some(sequence) = self.inner.set.get(kind).cloned() else {
            return Err(SequencerError::NotDefined(kind.name()));
        };
        let (done_tx, done_rx) = watch::channel(false);
        let cancel = CancellationToken::new();
        let taken_over_by = Arc::new(OnceLock::new());
        let id = {
            let mut n = self
                .inner
                .next_id
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *n += 1;
            *n
        };
        let previous = {
            let mut slot = self.lock_slot();
            let previous = match slot.as_ref() {
                Some(cur) if kind.takes_over(cur.kind) => {
                    let _ = cur.taken_over_by.set(kind);
                    cur.cancel.cancel();
                    Some(cur.done.clone())
                }
                Some(cur) => {
                    return Err(SequencerError::Locked {
                        running: cur.kind.name(),
                        requested: kind.name(),
                    })
                }
                None => None,
            };
            *slot = Some(Slot {
                id,
                kind,
                cancel: cancel.clone(),
                taken_over_by: taken_over_by.clone(),
                done: done_rx,
            });
            previous
        };
        let (result_tx, result_rx) = oneshot::channel();
        let this = self.clone();
        tokio::spawn(async move {
            if let Some(mut prev) = previous {
                let _ = prev.wait_for(|done| *done).await;
            }
            let mut ctx = this.inner.ctx.clone();
            ctx.cancel = cancel;
            let result = execute(&sequence, ctx, &taken_over_by).await;
            {
                let mut slot = this.lock_slot();
                if slot.as_ref().is_some_and(|s| s.id == id) {
                    *slot = None;
                }
            }
            let _ = done_tx.send(true);
            let _ = result_tx.send(result);
        });
        Ok(RunHandle {
            kind,
            result: result_rx,
        })
    }

    fn lock_slot(&self) -> std::sync::MutexGuard<'_, Option<Slot>> {
        self.inner
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs every phase and task of `sequence`, publishing events and console lines.
async fn execute(
    sequence: &Sequence,
    ctx: Context,
    taken_over_by: &OnceLock<SequenceKind>,
) -> Result<(), SequencerError> {
    let name = sequence.kind.name();
    let bus = ctx.bus.clone();
    console::log(format_args!("sequence {name}: start"));
    bus.publish(MachineEvent::Sequence {
        sequence: name.to_string(),
        action: SequenceAction::Start,
        error: None,
    });
    let cancelled = || SequencerError::Cancelled {
        sequence: name,
        by: taken_over_by
            .get()
            .map(|k| k.name())
            .unwrap_or("another sequence"),
    };
    let mut outcome = Ok(());
    'phases: for phase in &sequence.phases {
        console::log(format_args!("phase {name}/{}: start", phase.name));
        bus.publish(MachineEvent::Phase {
            sequence: name.to_string(),
            phase: phase.name.clone(),
            action: PhaseAction::Start,
        });
        for task in &phase.tasks {
            if ctx.cancel.is_cancelled() {
                outcome = Err(cancelled());
            } else {
                outcome = run_task(name, &phase.name, task, &ctx, &cancelled).await;
            }
            if outcome.is_err() {
                bus.publish(MachineEvent::Phase {
                    sequence: name.to_string(),
                    phase: phase.name.clone(),
                    action: PhaseAction::Stop,
                });
                break 'phases;
            }
        }
        console::log(format_args!("phase {name}/{}: done", phase.name));
        bus.publish(MachineEvent::Phase {
            sequence: name.to_string(),
            phase: phase.name.clone(),
            action: PhaseAction::Stop,
        });
    }
    let error = outcome.as_ref().err().map(|e| e.to_string());
    match &error {
        None => console::log(format_args!("sequence {name}: done")),
        Some(e) => console::log(format_args!("sequence {name}: failed: {e}")),
    }
    bus.publish(MachineEvent::Sequence {
        sequence: name.to_string(),
        action: SequenceAction::Stop,
        error,
    });
    outcome
}

async fn run_task(
    sequence: &'static str,
    phase: &str,
    task: &super::Task,
    ctx: &Context,
    cancelled: &(dyn Fn() -> SequencerError + Sync),
) -> Result<(), SequencerError> {
    let bus = &ctx.bus;
    bus.publish(MachineEvent::Task {
        sequence: sequence.to_string(),
        phase: phase.to_string(),
        task: task.name.clone(),
        action: TaskAction::Start,
        error: None,
    });
    let result = tokio::select! {
        biased;
        _ = ctx.cancel.cancelled() => Err(cancelled()),
        r = (task.run)(ctx.clone()) => r.map_err(|e| SequencerError::TaskFailed {
            sequence,
            phase: phase.to_string(),
            task: task.name.clone(),
            error: format!("{e:#}"),
        }),
    };
    let error = result.as_ref().err().map(|e| e.to_string());
    if let Some(e) = &error {
        console::log(format_args!("task {sequence}/{phase}/{}: {e}", task.name));
    }
    bus.publish(MachineEvent::Task {
        sequence: sequence.to_string(),
        phase: phase.to_string(),
        task: task.name.clone(),
        action: TaskAction::Stop,
        error,
    });
    result
}
