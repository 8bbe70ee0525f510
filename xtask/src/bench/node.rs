//! machined figures: boot time, idle memory and shutdown time of a container-mode node
//! started with the release `basalt launch` (needs root: namespaces and mounts).
//!
//! Each launch gets a fresh node (root, STATE with a generated control-plane config, EPHEMERAL,
//! sockets) with one image service, `sleeper`.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Result};

use super::launcher::Launcher;
use super::node_root::NodeDirs;
use super::proc_status::{self, mib, Memory};
use super::{median, ms, Row};

/// How many nodes are launched.
const LAUNCHES: usize = 5;
/// From spawning the launcher to `boot sequence done`.
const BOOT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a booted node sits idle before its memory is read.
const IDLE: Duration = Duration::from_secs(2);
/// From SIGTERM to the launcher's exit.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// The console line that ends the boot.
const BOOT_DONE: &str = "boot sequence done";

const BOOT_MEDIAN: &str = "machined boot, exec to `boot sequence done` (container mode) (median)";
const BOOT_MIN: &str = "machined boot, exec to `boot sequence done` (container mode) (min)";
const IDLE_RSS: &str = "machined idle RSS";
const SHUTDOWN: &str = "shutdown, SIGTERM to launcher exit (median)";

/// What one launch measured; memory and shutdown may fail on their own.
#[derive(Debug)]
struct Sample {
    boot: Duration,
    memory: Result<Memory>,
    shutdown: Result<Duration>,
}

/// The machined rows; failed rows (with the reason) when they cannot be measured.
pub fn rows(release: &Path) -> Vec<Row> {
    if !crate::packages::is_root() {
        return all_failed(&anyhow!(
            "needs root (`basalt launch` creates namespaces and mounts); run `cargo xtask bench` as root"
        ));
    }
    if let Err(err) = super::build(&["basalt", "basaltctl"]) {
        return all_failed(&err);
    }
    let basalt = release.join("basalt");
    let basaltctl = release.join("basaltctl");
    let mut samples = Vec::with_capacity(LAUNCHES);
    for n in 1..=LAUNCHES {
        match launch_once(&basalt, &basaltctl) {
            Ok(sample) => {
                println!(
                    "xtask bench: machined launch {n}/{LAUNCHES}: {}",
                    progress(&sample)
                );
                samples.push(sample);
            }
            Err(err) => {
                return all_failed(&err.context(format!("launch {n} of {LAUNCHES}")));
            }
        }
    }
    summarize(samples)
}

/// Boots one node, lets it idle, reads its memory and shuts it down.
fn launch_once(basalt: &Path, basaltctl: &Path) -> Result<Sample> {
    let dirs = NodeDirs::create(basalt, basaltctl)?;
    let mut node = Launcher::spawn(basalt, &dirs)?;
    let deadline = node.started + BOOT_TIMEOUT;
    let machined = node.machined_pid(deadline)?;
    let done = node.console_line(BOOT_DONE, deadline)?;
    let boot = done.saturating_duration_since(node.started);
    std::thread::sleep(IDLE);
    let memory = proc_status::memory(machined);
    let shutdown = node.shutdown(SHUTDOWN_TIMEOUT);
    Ok(Sample {
        boot,
        memory,
        shutdown,
    })
}

fn progress(sample: &Sample) -> String {
    let memory = match &sample.memory {
        Ok(m) => format!("{:.1} MiB", mib(m.rss_kib)),
        Err(err) => format!("failed ({err:#})"),
    };
    let shutdown = match &sample.shutdown {
        Ok(d) => format!("{:.1} ms", ms(*d)),
        Err(err) => format!("failed ({err:#})"),
    };
    format!(
        "boot {:.1} ms, idle RSS {memory}, shutdown {shutdown}",
        ms(sample.boot)
    )
}

fn all_failed(err: &anyhow::Error) -> Vec<Row> {
    [BOOT_MEDIAN, BOOT_MIN, IDLE_RSS, SHUTDOWN]
        .iter()
        .map(|name| Row::failed(name, err))
        .collect()
}

fn summarize(samples: Vec<Sample>) -> Vec<Row> {
    let mut boots: Vec<Duration> = samples.iter().map(|s| s.boot).collect();
    let setup = format!(
        "{LAUNCHES} launches, release build, fresh node root + STATE (control-plane config: apid and trustd with 1 s health checks) each, \
         one image service (sleeper)"
    );
    let mut rows = vec![
        Row {
            name: BOOT_MEDIAN.into(),
            value: Some(ms(median(&mut boots))),
            unit: "ms".into(),
            notes: format!(
                "{setup}; from spawning `basalt launch` to the console line arriving on its stderr"
            ),
        },
        Row {
            name: BOOT_MIN.into(),
            value: boots.iter().min().map(|d| ms(*d)),
            unit: "ms".into(),
            notes: setup.clone(),
        },
    ];
    let mut memory = Vec::with_capacity(samples.len());
    let mut shutdowns = Vec::with_capacity(samples.len());
    let (mut memory_err, mut shutdown_err) = (None, None);
    for (n, sample) in samples.into_iter().enumerate().map(|(i, s)| (i + 1, s)) {
        match sample.memory {
            Ok(m) => memory.push(m),
            Err(err) => {
                memory_err.get_or_insert_with(|| anyhow!("launch {n}: {err:#}"));
            }
        }
        match sample.shutdown {
            Ok(d) => shutdowns.push(d),
            Err(err) => {
                shutdown_err.get_or_insert_with(|| anyhow!("launch {n}: {err:#}"));
            }
        }
    }
    rows.push(match memory_err {
        Some(err) => Row::failed(IDLE_RSS, &err),
        None => memory_row(&memory),
    });
    rows.push(match shutdown_err {
        Some(err) => Row::failed(SHUTDOWN, &err),
        None => shutdown_row(&mut shutdowns, &setup),
    });
    rows
}

fn memory_row(memory: &[Memory]) -> Row {
    let mut rss: Vec<u64> = memory.iter().map(|m| m.rss_kib).collect();
    let mut hwm: Vec<u64> = memory.iter().map(|m| m.hwm_kib).collect();
    let range = |v: &[u64]| {
        let low = v.iter().min().copied().unwrap_or(0);
        let high = v.iter().max().copied().unwrap_or(0);
        format!("{:.1}–{:.1} MiB", mib(low), mib(high))
    };
    Row {
        name: IDLE_RSS.into(),
        value: Some(mib(median_kib(&mut rss))),
        unit: "MiB".into(),
        notes: format!(
            "VmRSS of machined (/proc/<pid>/status) after `{BOOT_DONE}` + {}s idle; median of \
             {} launches (range {}); VmHWM median {:.1} MiB (range {})",
            IDLE.as_secs(),
            memory.len(),
            range(&rss),
            mib(median_kib(&mut hwm)),
            range(&hwm),
        ),
    }
}

fn shutdown_row(shutdowns: &mut [Duration], setup: &str) -> Row {
    let median = ms(median(shutdowns));
    let low = shutdowns.iter().min().map_or(0.0, |d| ms(*d));
    let high = shutdowns.iter().max().map_or(0.0, |d| ms(*d));
    Row {
        name: SHUTDOWN.into(),
        value: Some(median),
        unit: "ms".into(),
        notes: format!(
            "{setup}; SIGTERM after {}s idle until the launcher exited 0 (range {low:.1}–{high:.1} ms)",
            IDLE.as_secs()
        ),
    }
}

/// The median of KiB figures (the lower middle one for an even count).
fn median_kib(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values
        .get(values.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sample(boot_ms: u64, rss_kib: u64, shutdown: Result<Duration>) -> Sample {
        Sample {
            boot: Duration::from_millis(boot_ms),
            memory: Ok(Memory {
                rss_kib,
                hwm_kib: rss_kib * 2,
            }),
            shutdown,
        }
    }

    #[test]
    fn median_kib_takes_the_middle() {
        assert_eq!(median_kib(&mut [3, 1, 2]), 2);
        assert_eq!(median_kib(&mut [4, 1, 3, 2]), 2);
        assert_eq!(median_kib(&mut []), 0);
    }

    #[test]
    fn summarize_reports_medians_and_minimum() {
        let ok = |ms| Ok(Duration::from_millis(ms));
        let rows = summarize(vec![
            sample(30, 2048, ok(10)),
            sample(10, 1024, ok(30)),
            sample(20, 3072, ok(20)),
        ]);
        let values: Vec<Option<f64>> = rows.iter().map(|r| r.value).collect();
        assert_eq!(values, vec![Some(20.0), Some(10.0), Some(2.0), Some(20.0)]);
        assert!(
            rows[2].notes.contains("VmHWM median 4.0 MiB"),
            "{}",
            rows[2].notes
        );
    }

    #[test]
    fn summarize_fails_only_the_figure_that_failed() {
        let rows = summarize(vec![
            sample(10, 1024, Ok(Duration::from_millis(5))),
            sample(10, 1024, Err(anyhow!("did not exit"))),
        ]);
        assert!(rows[0].value.is_some() && rows[2].value.is_some());
        assert_eq!(rows[3].value, None);
        assert!(
            rows[3].notes.contains("launch 2: did not exit"),
            "{}",
            rows[3].notes
        );
    }

    #[test]
    fn all_failed_names_every_row() {
        let rows = all_failed(&anyhow!("needs root"));
        assert_eq!(rows.len(), 4);
        assert!(rows
            .iter()
            .all(|r| r.value.is_none() && r.notes.contains("needs root")));
    }
}
