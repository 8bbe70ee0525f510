//! Controller runtime: reconcile on change, owners, undeclared outputs, retries, claims,
//! shutdown.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use basalt_resources::{
    async_trait, Controller, ControllerContext, ControllerRuntime, Input, Output, Resource, Store,
    StoreError,
};
use common::*;
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Counts running services into `Things/running-services` (namespace `test`).
struct CountRunning {
    name: String,
    /// Dropped with the controller: lets tests see that its task ended.
    _alive: Arc<()>,
}

#[async_trait]
impl Controller for CountRunning {
    fn name(&self) -> &str {
        &self.name
    }
    fn inputs(&self) -> Vec<Input> {
        vec![Input::new("runtime", SERVICES)]
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::new(THINGS)]
    }
    async fn reconcile(&mut self, ctx: &mut ControllerContext) -> anyhow::Result<()> {
        let running = ctx
            .list("runtime", SERVICES)
            .iter()
            .filter(|r| r.spec["running"] == true)
            .count() as u64;
        ctx.apply(thing("running-services", running))?;
        Ok(())
    }
}

fn count_running(name: &str) -> (Box<CountRunning>, Arc<()>) {
    let alive = Arc::new(());
    let c = CountRunning {
        name: name.into(),
        _alive: alive.clone(),
    };
    (Box::new(c), alive)
}

async fn wait_count(store: &Store, n: u64) -> Resource {
    within(
        "the controller output",
        store.wait_for("test", THINGS, "running-services", move |r| {
            r.spec["n"] == n
        }),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciles_on_input_changes_and_stops_on_shutdown() {
    let store = store_with(Store::new());
    let mut runtime = ControllerRuntime::new(store.clone());
    let (controller, alive) = count_running("count-running");
    runtime.register(controller).unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(runtime.run(shutdown.clone()));

    // Initial reconcile, before any input exists.
    let out = wait_count(&store, 0).await;
    assert_eq!(out.metadata.owner, "count-running");
    store.create("", service("etcd", true)).unwrap();
    wait_count(&store, 1).await;
    store.create("", service("kubelet", true)).unwrap();
    wait_count(&store, 2).await;
    store.destroy("", "runtime", SERVICES, "etcd").unwrap();
    let out = wait_count(&store, 1).await;
    assert_eq!(out.metadata.owner, "count-running");
    // Users may not overwrite the controller's output.
    assert!(matches!(
        store.apply("", thing("running-services", 7)),
        Err(StoreError::OwnerConflict { .. })
    ));

    shutdown.cancel();
    within("the runtime to stop", running).await.unwrap();
    assert_eq!(
        Arc::strong_count(&alive),
        1,
        "the controller task ended and dropped the controller"
    );
}

/// Tries to write a Services resource without declaring it; reports the error.
struct Trespasser {
    errors: Arc<Mutex<Vec<StoreError>>>,
}

#[async_trait]
impl Controller for Trespasser {
    fn name(&self) -> &str {
        "trespasser"
    }
    fn inputs(&self) -> Vec<Input> {
        Vec::new()
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::new(THINGS)]
    }
    async fn reconcile(&mut self, ctx: &mut ControllerContext) -> anyhow::Result<()> {
        let err = ctx.apply(service("fake", true)).unwrap_err();
        self.errors.lock().unwrap().push(err);
        let err = ctx.destroy("runtime", SERVICES, "real").unwrap_err();
        self.errors.lock().unwrap().push(err);
        ctx.apply(thing("done", 1))?;
        Ok(())
    }
}

#[tokio::test]
async fn writing_an_undeclared_output_fails() {
    let store = store_with(Store::new());
    store.create("", service("real", true)).unwrap();
    let errors = Arc::new(Mutex::new(Vec::new()));
    let mut runtime = ControllerRuntime::new(store.clone());
    runtime
        .register(Box::new(Trespasser {
            errors: errors.clone(),
        }))
        .unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(runtime.run(shutdown.clone()));
    within(
        "the trespasser",
        store.wait_for("test", THINGS, "done", |_| true),
    )
    .await
    .unwrap();
    let errors = errors.lock().unwrap().clone();
    let undeclared = StoreError::UndeclaredOutput {
        controller: "trespasser".into(),
        type_: SERVICES.into(),
    };
    assert_eq!(errors, [undeclared.clone(), undeclared]);
    assert!(store.get("runtime", SERVICES, "fake").is_err());
    assert!(store.get("runtime", SERVICES, "real").is_ok());
    shutdown.cancel();
    within("the runtime to stop", running).await.unwrap();
}

/// Fails its first `failures` reconciles; records when each attempt happened.
struct Flaky {
    failures: usize,
    attempts: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait]
impl Controller for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn inputs(&self) -> Vec<Input> {
        Vec::new()
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::new(THINGS)]
    }
    async fn reconcile(&mut self, ctx: &mut ControllerContext) -> anyhow::Result<()> {
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            attempts.push(Instant::now());
            attempts.len()
        };
        if attempt <= self.failures {
            anyhow::bail!("simulated failure {attempt}");
        }
        ctx.apply(thing("flaky", attempt as u64))?;
        Ok(())
    }
}

// Paused clock: the backoff delays are checked exactly, without real waiting.
#[tokio::test(start_paused = true)]
async fn failed_reconciles_are_retried_with_exponential_backoff() {
    let store = store_with(Store::new());
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let mut runtime = ControllerRuntime::new(store.clone());
    runtime
        .register(Box::new(Flaky {
            failures: 4,
            attempts: attempts.clone(),
        }))
        .unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(runtime.run(shutdown.clone()));
    let out = within(
        "the flaky controller",
        store.wait_for("test", THINGS, "flaky", |_| true),
    )
    .await
    .unwrap();
    assert_eq!(out.spec, json!({"n": 5}));
    let attempts = attempts.lock().unwrap().clone();
    let gaps: Vec<Duration> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    let expected = [100, 200, 400, 800].map(Duration::from_millis);
    assert_eq!(gaps, expected);
    shutdown.cancel();
    within("the runtime to stop", running).await.unwrap();
}

/// Counts its reconciles and mirrors the `runtime/Services/burst` spec into a Thing.
struct Mirror {
    runs: Arc<Mutex<u64>>,
}

#[async_trait]
impl Controller for Mirror {
    fn name(&self) -> &str {
        "mirror"
    }
    fn inputs(&self) -> Vec<Input> {
        vec![Input::new("runtime", SERVICES)]
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::new(THINGS)]
    }
    async fn reconcile(&mut self, ctx: &mut ControllerContext) -> anyhow::Result<()> {
        *self.runs.lock().unwrap() += 1;
        let version = match ctx.get("runtime", SERVICES, "burst") {
            Ok(r) => r.metadata.version,
            Err(_) => 0,
        };
        ctx.apply(thing("mirror", version))?;
        Ok(())
    }
}

// One thread: the burst below is written before the controller's tasks run again.
#[tokio::test(flavor = "current_thread")]
async fn a_burst_of_changes_coalesces_into_few_reconciles() {
    let store = store_with(Store::new());
    let runs = Arc::new(Mutex::new(0));
    let mut runtime = ControllerRuntime::new(store.clone());
    runtime
        .register(Box::new(Mirror { runs: runs.clone() }))
        .unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(runtime.run(shutdown.clone()));
    within(
        "the first reconcile",
        store.wait_for("test", THINGS, "mirror", |_| true),
    )
    .await
    .unwrap();
    assert_eq!(*runs.lock().unwrap(), 1);

    let mut r = store.create("", service("burst", false)).unwrap();
    for i in 0..100 {
        r.spec["n"] = json!(i);
        r = store.update("", r).unwrap();
    }
    within(
        "the mirror of the last version",
        store.wait_for("test", THINGS, "mirror", |m| m.spec["n"] == 101),
    )
    .await
    .unwrap();
    let runs = *runs.lock().unwrap();
    assert!(runs <= 3, "101 changes caused {runs} reconciles");
    shutdown.cancel();
    within("the runtime to stop", running).await.unwrap();
}

#[test]
fn an_output_type_has_one_controller() {
    let mut runtime = ControllerRuntime::new(store_with(Store::new()));
    runtime.register(count_running("first").0).unwrap();
    let err = runtime.register(count_running("second").0).unwrap_err();
    assert_eq!(
        err,
        StoreError::OutputClaimed {
            type_: THINGS.into(),
            controller: "second".into(),
            claimed_by: "first".into()
        }
    );
    assert!(err.to_string().contains("exactly one controller"), "{err}");
    let err = runtime.register(count_running("first").0).unwrap_err();
    assert!(err.to_string().contains("registered twice"), "{err}");
}

#[tokio::test]
async fn shutdown_with_no_controllers_returns() {
    let runtime = ControllerRuntime::new(Store::new());
    let shutdown = CancellationToken::new();
    shutdown.cancel();
    within("an empty runtime", runtime.run(shutdown)).await;
}
