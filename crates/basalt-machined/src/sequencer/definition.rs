//! Sequences as data: a sequence is phases, a phase is tasks, run in order.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::{Context, SequenceKind};

/// The body of a task: an async function of the (cheaply cloned) [`Context`].
pub type TaskFn = Arc<dyn Fn(Context) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// One named step.
#[derive(Clone)]
pub struct Task {
    /// Name in events, e.g. `mountPseudoFilesystems`.
    pub name: String,
    /// What it does.
    pub run: TaskFn,
}

impl Task {
    /// A task named `name` running `f`.
    pub fn new<F, Fut>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Task {
            name: name.into(),
            run: Arc::new(move |ctx| Box::pin(f(ctx))),
        }
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Task({})", self.name)
    }
}

/// A named group of tasks.
#[derive(Clone, Debug)]
pub struct Phase {
    /// Name in events, e.g. `services`.
    pub name: String,
    /// Tasks, run one after the other (the order is part of the design: simple to reason
    /// about, deterministic events).
    pub tasks: Vec<Task>,
}

impl Phase {
    /// A phase named `name`.
    pub fn new(name: impl Into<String>, tasks: Vec<Task>) -> Self {
        Phase {
            name: name.into(),
            tasks,
        }
    }
}

/// The phases of one sequence.
#[derive(Clone, Debug)]
pub struct Sequence {
    /// Which sequence.
    pub kind: SequenceKind,
    /// Phases in order.
    pub phases: Vec<Phase>,
}

impl Sequence {
    /// A sequence of `phases`.
    pub fn new(kind: SequenceKind, phases: Vec<Phase>) -> Self {
        Sequence { kind, phases }
    }

    /// This sequence followed by the phases of `other` (e.g. reboot = stop + initialize + boot).
    pub fn then(mut self, other: &Sequence) -> Self {
        self.phases.extend(other.phases.iter().cloned());
        self
    }
}

/// The sequences a [`Sequencer`](super::Sequencer) can run.
#[derive(Clone, Debug, Default)]
pub struct SequenceSet {
    sequences: Vec<Sequence>,
}

impl SequenceSet {
    /// A set of `sequences` (a later one replaces an earlier one of the same kind).
    pub fn new(sequences: Vec<Sequence>) -> Self {
        let mut set = SequenceSet::default();
        for s in sequences {
            set.insert(s);
        }
        set
    }

    /// Adds or replaces the sequence of `s.kind`.
    pub fn insert(&mut self, s: Sequence) {
        self.sequences.retain(|x| x.kind != s.kind);
        self.sequences.push(s);
    }

    /// The sequence of `kind`.
    pub fn get(&self, kind: SequenceKind) -> Option<&Sequence> {
        self.sequences.iter().find(|s| s.kind == kind)
    }
}
