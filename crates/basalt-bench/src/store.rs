//! Resource store figures: updates/s with no watcher and with 10 watchers that each consume
//! every event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use basalt_resources::{
    Resource, ResourceDefinition, Store, WatchError, WatchFilter, WatchOptions,
};

use crate::measure::{time_for, Row, Timing};

const TYPE: &str = "BenchItems.bench.basalt.dev";
const NAMESPACE: &str = "bench";
/// How far (in events) the writer may run ahead of the slowest watcher: half the default
/// watch buffer, so a watcher that keeps up never has to resume.
const MAX_AHEAD: u64 = 4096;

/// Both store figures.
pub fn figures(budget: Duration) -> Vec<Row> {
    vec![no_watchers(budget), with_watchers(budget, 10)]
}

fn bench_store() -> Result<Store, String> {
    let store = Store::new();
    store
        .register(ResourceDefinition {
            type_: TYPE.into(),
            aliases: Vec::new(),
            default_namespace: NAMESPACE.into(),
            columns: Vec::new(),
            sensitive: false,
        })
        .map_err(|err| format!("registering the bench type failed: {err}"))?;
    Ok(store)
}

/// One update: a new spec for one of 16 resources, so every call is a real change.
fn update(store: &Store, n: u64) -> Result<(), String> {
    let id = format!("item-{}", n % 16);
    let r = Resource::new(NAMESPACE, TYPE, id, serde_json::json!({ "n": n }));
    store
        .apply("bench", r)
        .map(|_| ())
        .map_err(|err| format!("store update failed: {err}"))
}

fn no_watchers(budget: Duration) -> Row {
    let name = "store updates (0 watchers)";
    let store = match bench_store() {
        Ok(store) => store,
        Err(reason) => return Row::failed(name, &reason),
    };
    let mut n = 0u64;
    let result = time_for(budget, || {
        n += 1;
        update(&store, n)
    });
    match result {
        Ok(timing) => row(name, &timing, "Store::apply of a changed spec, 16 ids"),
        Err(reason) => Row::failed(name, &reason),
    }
}

fn with_watchers(budget: Duration, watchers: usize) -> Row {
    let name = format!("store updates ({watchers} watchers)");
    match measure_with_watchers(budget, watchers) {
        Ok((timing, resumes)) => row(
            &name,
            &timing,
            &format!(
                "Store::apply of a changed spec; {watchers} watcher tasks (tokio, 2 workers) each \
                 received every event before the clock stopped; writer at most {MAX_AHEAD} \
                 events ahead; {resumes} resumes after falling behind"
            ),
        ),
        Err(reason) => Row::failed(&name, &reason),
    }
}

/// Writes for `budget`, then waits until every watcher has consumed every event.
fn measure_with_watchers(budget: Duration, watchers: usize) -> Result<(Timing, u64), String> {
    let store = bench_store()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|err| format!("starting the tokio runtime failed: {err}"))?;
    let start = store.revision();
    // The final revision, once the writer stops; u64::MAX while it writes.
    let (set_target, target) = tokio::sync::watch::channel(u64::MAX);
    let resumes = Arc::new(AtomicU64::new(0));
    let mut progress = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..watchers {
        let seen = Arc::new(AtomicU64::new(start));
        progress.push(seen.clone());
        let filter = WatchFilter::of(NAMESPACE, TYPE);
        let watcher = store
            .watch(filter.clone(), WatchOptions::default())
            .map_err(|err| format!("starting a watch failed: {err}"))?;
        let (store, mut target, resumes) = (store.clone(), target.clone(), resumes.clone());
        tasks.push(runtime.spawn(async move {
            let mut watcher = watcher;
            while seen.load(Ordering::Relaxed) < *target.borrow_and_update() {
                let next = tokio::select! {
                    next = watcher.next() => next,
                    // Re-check the loop condition when the target is set.
                    _ = target.changed() => continue,
                };
                match next {
                    Ok(event) => seen.store(event.revision, Ordering::Relaxed),
                    Err(WatchError::FellBehind { last_delivered }) => {
                        resumes.fetch_add(1, Ordering::Relaxed);
                        let opts = WatchOptions {
                            bootstrap: false,
                            since_revision: Some(last_delivered),
                        };
                        watcher = store
                            .watch(filter.clone(), opts)
                            .map_err(|err| format!("resuming a watch failed: {err}"))?;
                    }
                    Err(err) => return Err(format!("a watcher failed: {err}")),
                }
            }
            Ok(())
        }));
    }

    let started = Instant::now();
    let mut n = 0u64;
    'writing: while started.elapsed() < budget {
        n += 1;
        update(&store, n)?;
        // Flow control: never more than MAX_AHEAD events ahead of the slowest watcher.
        while progress
            .iter()
            .any(|p| start + n - p.load(Ordering::Relaxed) > MAX_AHEAD)
        {
            if tasks.iter().any(|task| task.is_finished()) {
                break 'writing; // a watcher failed; its error is reported below
            }
            std::thread::yield_now();
        }
    }
    // No receiver left only means every watcher already ended (with an error, seen below).
    let _ = set_target.send(store.revision());
    let finished = runtime.block_on(async {
        let mut results = Vec::new();
        for task in tasks {
            results.push(tokio::time::timeout(Duration::from_secs(60), task).await);
        }
        results
    });
    let elapsed = started.elapsed();
    for result in finished {
        match result {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(reason))) => return Err(reason),
            Ok(Err(err)) => return Err(format!("a watcher task failed: {err}")),
            Err(_) => return Err("a watcher did not catch up within 60 s".into()),
        }
    }
    let timing = Timing { ops: n, elapsed };
    Ok((timing, resumes.load(Ordering::Relaxed)))
}

fn row(name: &str, timing: &Timing, notes: &str) -> Row {
    Row {
        name: format!("{name} throughput"),
        value: Some(timing.per_second()),
        unit: "updates/s".to_string(),
        notes: format!(
            "{notes}; {} updates in {:.2}s, release build",
            timing.ops,
            timing.elapsed.as_secs_f64()
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn both_figures_are_measured() {
        let rows = figures(Duration::from_millis(50));
        assert_eq!(rows.len(), 2, "{rows:?}");
        for row in &rows {
            assert_eq!(row.unit, "updates/s", "{row:?}");
            assert!(row.value.is_some_and(|v| v > 0.0), "{row:?}");
        }
        assert!(rows[1].name.contains("10 watchers"));
    }
}
