//! Runs controllers: one task each, reconciling on input changes with retry and backoff.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Controller, ControllerContext};
use crate::error::{StoreError, WatchError};
use crate::store::Store;
use crate::watch::{WatchFilter, WatchOptions, Watcher};

/// First retry delay after a failed reconcile.
pub const BACKOFF_INITIAL: Duration = Duration::from_millis(100);
/// Longest retry delay.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Holds registered controllers until [`run`](ControllerRuntime::run) starts them.
pub struct ControllerRuntime {
    store: Store,
    controllers: Vec<Box<dyn Controller>>,
    /// Output type -> name of the controller owning it.
    claimed: BTreeMap<String, String>,
}

impl fmt::Debug for ControllerRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.controllers.iter().map(|c| c.name()).collect();
        f.debug_struct("ControllerRuntime")
            .field("controllers", &names)
            .field("claimed", &self.claimed)
            .finish_non_exhaustive()
    }
}

impl ControllerRuntime {
    /// A runtime with no controllers, working on `store`.
    pub fn new(store: Store) -> Self {
        ControllerRuntime {
            store,
            controllers: Vec::new(),
            claimed: BTreeMap::new(),
        }
    }

    /// Adds a controller. Refuses an empty or duplicate name and an output type another
    /// controller already claims.
    pub fn register(&mut self, c: Box<dyn Controller>) -> Result<(), StoreError> {
        let name = c.name().to_string();
        if name.is_empty() {
            return Err(StoreError::Invalid(
                "a controller needs a non-empty name (it owns what the controller writes)".into(),
            ));
        }
        if self.controllers.iter().any(|other| other.name() == name) {
            return Err(StoreError::Invalid(format!(
                "controller `{name}` is registered twice; controller names must be unique"
            )));
        }
        let outputs = c.outputs();
        for output in &outputs {
            if let Some(owner) = self.claimed.get(&output.type_) {
                return Err(StoreError::OutputClaimed {
                    type_: output.type_.clone(),
                    controller: name,
                    claimed_by: owner.clone(),
                });
            }
        }
        for output in outputs {
            self.claimed.insert(output.type_, name.clone());
        }
        self.controllers.push(c);
        Ok(())
    }

    /// Runs every controller until `shutdown` is cancelled; returns when all have stopped.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut tasks = JoinSet::new();
        for controller in self.controllers {
            tasks.spawn(run_one(self.store.clone(), controller, shutdown.clone()));
        }
        while let Some(result) = tasks.join_next().await {
            if let Err(err) = result {
                eprintln!("basalt-resources: a controller task ended abnormally: {err}");
            }
        }
    }
}

/// Reconciles one controller: once at start, then after input changes; retries failures.
async fn run_one(store: Store, mut controller: Box<dyn Controller>, shutdown: CancellationToken) {
    let name = controller.name().to_string();
    let outputs = controller.outputs().into_iter().map(|o| o.type_).collect();
    let mut ctx = ControllerContext::new(store.clone(), name.clone(), outputs);
    let changed = Arc::new(Notify::new());
    // Dropped (and so aborted) when this function returns.
    let mut watchers = JoinSet::new();
    for input in controller.inputs() {
        let filter = WatchFilter::of(input.namespace, input.type_);
        match store.watch(filter, WatchOptions::default()) {
            Ok(watcher) => {
                watchers.spawn(signal_changes(store.clone(), watcher, changed.clone()));
            }
            Err(err) => eprintln!("basalt-resources: controller `{name}`: {err}"),
        }
    }
    let mut delay = BACKOFF_INITIAL;
    let mut failures = 0u32;
    loop {
        let result = tokio::select! {
            _ = shutdown.cancelled() => return,
            result = controller.reconcile(&mut ctx) => result,
        };
        match result {
            Ok(()) => {
                delay = BACKOFF_INITIAL;
                failures = 0;
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = changed.notified() => {}
                }
            }
            Err(err) => {
                failures += 1;
                eprintln!(
                    "basalt-resources: controller `{name}`: reconcile failed ({failures} in a \
                     row): {err:#}; retrying in {delay:?}"
                );
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Wakes the controller on every event of one input. Bursts coalesce: `Notify` keeps at most
/// one pending wake-up. A watcher that falls behind is replaced (the controller re-reads the
/// current state anyway).
async fn signal_changes(store: Store, mut watcher: Watcher, changed: Arc<Notify>) {
    loop {
        match watcher.next().await {
            Ok(_) => changed.notify_one(),
            Err(WatchError::FellBehind { .. }) => {
                // Subscribe again before waking the controller, so that any change after
                // the reconcile's reads is seen by the new watcher.
                match store.watch(watcher.filter().clone(), WatchOptions::default()) {
                    Ok(fresh) => watcher = fresh,
                    Err(_) => return,
                }
                changed.notify_one();
            }
            Err(WatchError::Closed) => return,
        }
    }
}
