//! `cargo xtask bench`: builds release binaries, measures, prints a markdown table and writes
//! `target/bench/bench.md` and `target/bench/bench.json`.
//!
//! A figure that cannot be measured becomes a row marked failed (with the reason); the other
//! figures are still measured, and the command exits non-zero at the end.
//!
//! This file holds the report and the `basaltctl` / in-process figures; the machined figures
//! (boot, idle memory, shutdown of a `basalt launch` node) live in `bench/node.rs`, the image
//! figures (sizes, executables, QEMU boot timings) in `bench/image.rs`, the cluster figures
//! (time to 3 etcd voters, memory per node, destroy) in `bench/cluster.rs`.

mod cluster;
mod image;
mod launcher;
mod node;
mod node_root;
mod proc_status;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::cmd;

/// How many times `basaltctl gen config` is timed.
const GEN_CONFIG_RUNS: usize = 10;

/// One figure of the benchmark report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// What was measured.
    pub name: String,
    /// The measured value; `None` when the measurement failed.
    pub value: Option<f64>,
    /// Unit of `value` (`ms`, `docs/s`, `µs/op` …).
    pub unit: String,
    /// How it was measured, or why it failed.
    pub notes: String,
}

impl Row {
    fn failed(name: &str, err: &anyhow::Error) -> Row {
        Row {
            name: name.to_string(),
            value: None,
            unit: String::new(),
            notes: format!("FAILED: {err:#}"),
        }
    }
}

/// Runs every measurement, writes the report, and fails if any figure failed.
pub fn run() -> Result<()> {
    let mut rows = Vec::new();
    let release = cmd::target_dir().join("release");

    match build(&["basaltctl"]) {
        Ok(()) => rows.extend(
            gen_config(&release.join("basaltctl"))
                .unwrap_or_else(|err| vec![Row::failed("basaltctl gen config", &err)]),
        ),
        Err(err) => rows.push(Row::failed("basaltctl gen config", &err)),
    }
    match build(&["basalt-bench"]) {
        Ok(()) => match in_process(&release.join("basalt-bench")) {
            Ok(found) => rows.extend(found),
            Err(err) => rows.push(Row::failed("basalt-bench (in-process)", &err)),
        },
        Err(err) => rows.push(Row::failed("basalt-bench (in-process)", &err)),
    }
    rows.extend(node::rows(&release));
    rows.extend(image::rows(&release));
    rows.extend(cluster::rows(&release));

    let table = markdown(&rows);
    println!("\n{table}");
    let out_dir = cmd::target_dir().join("bench");
    write_report(&out_dir, &table, &rows)?;
    println!(
        "xtask bench: wrote {} and {}",
        out_dir.join("bench.md").display(),
        out_dir.join("bench.json").display()
    );
    let failed = rows.iter().filter(|row| row.value.is_none()).count();
    if failed > 0 {
        bail!(
            "{failed} of {} figures failed; see the notes column",
            rows.len()
        );
    }
    Ok(())
}

fn build(packages: &[&str]) -> Result<()> {
    println!("xtask bench: building {} (release)", packages.join(", "));
    let mut command = cmd::cargo();
    command.args(["build", "--release"]);
    for package in packages {
        command.args(["-p", package]);
    }
    cmd::run(&mut command)
}

/// Times `basaltctl gen config demo https://10.5.0.2:6443` in a fresh folder each run.
fn gen_config(basaltctl: &Path) -> Result<Vec<Row>> {
    let mut samples = Vec::with_capacity(GEN_CONFIG_RUNS);
    for _ in 0..GEN_CONFIG_RUNS {
        let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
        let mut command = Command::new(basaltctl);
        command
            .args(["gen", "config", "demo", "https://10.5.0.2:6443"])
            .current_dir(dir.path());
        let started = Instant::now();
        cmd::output(&mut command)?;
        samples.push(started.elapsed());
        for file in ["controlplane.yaml", "worker.yaml"] {
            if !dir.path().join(file).is_file() {
                bail!(
                    "`{}` exited 0 but wrote no {file}; check the gen config command",
                    cmd::describe(&command)
                );
            }
        }
    }
    let runs = format!("{GEN_CONFIG_RUNS} runs, release build, fresh temp dir each, whole process");
    Ok(vec![
        Row {
            name: "basaltctl gen config wall time (median)".into(),
            value: Some(ms(median(&mut samples))),
            unit: "ms".into(),
            notes: runs.clone(),
        },
        Row {
            name: "basaltctl gen config wall time (min)".into(),
            value: samples.iter().min().map(|d| ms(*d)),
            unit: "ms".into(),
            notes: runs,
        },
    ])
}

/// Runs the `basalt-bench` binary and collects the JSON object it prints on each line.
fn in_process(binary: &Path) -> Result<Vec<Row>> {
    println!("xtask bench: running {}", binary.display());
    let out = cmd::output(Command::new(binary).current_dir(cmd::root()))?;
    parse_rows(&String::from_utf8_lossy(&out.stdout))
}

/// Parses one JSON row per non-empty line.
fn parse_rows(text: &str) -> Result<Vec<Row>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).with_context(|| {
                format!(
                    "basalt-bench output line {}: expected {{\"name\",\"value\",\"unit\",\"notes\"}}, got `{line}`",
                    index + 1
                )
            })
        })
        .collect()
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    match samples.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => samples[n / 2],
        n => (samples[n / 2 - 1] + samples[n / 2]) / 2,
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The report as a markdown table.
fn markdown(rows: &[Row]) -> String {
    let mut text = String::from("| name | value | unit | notes |\n|---|---:|---|---|\n");
    for row in rows {
        let value = match row.value {
            Some(v) if v >= 100.0 => format!("{v:.0}"),
            Some(v) => format!("{v:.2}"),
            None => "—".to_string(),
        };
        let notes = row.notes.replace('|', "\\|").replace('\n', " ");
        text.push_str(&format!(
            "| {} | {value} | {} | {notes} |\n",
            row.name, row.unit
        ));
    }
    text
}

fn write_report(dir: &PathBuf, table: &str, rows: &[Row]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let md = dir.join("bench.md");
    std::fs::write(&md, table).with_context(|| format!("cannot write {}", md.display()))?;
    let json = dir.join("bench.json");
    let text = serde_json::to_string_pretty(rows).context("cannot serialize the report")?;
    std::fs::write(&json, text + "\n").with_context(|| format!("cannot write {}", json.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn median_of_odd_and_even_samples() {
        let d = Duration::from_millis;
        assert_eq!(median(&mut [d(5), d(1), d(3)]), d(3));
        assert_eq!(
            median(&mut [d(4), d(1), d(2), d(3)]),
            Duration::from_micros(2500)
        );
    }

    #[test]
    fn parse_rows_reads_json_lines_and_reports_bad_ones() {
        let good = "{\"name\":\"a\",\"value\":1.5,\"unit\":\"docs/s\",\"notes\":\"n\"}\n\n";
        let rows = parse_rows(good).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].value, Some(1.5));
        let err = parse_rows("not json").unwrap_err();
        assert!(format!("{err:#}").contains("line 1"));
    }

    #[test]
    fn markdown_marks_failed_rows_and_escapes_pipes() {
        let rows = vec![
            Row {
                name: "x".into(),
                value: Some(1234.567),
                unit: "ms".into(),
                notes: "a|b".into(),
            },
            Row::failed("y", &anyhow::anyhow!("boom")),
        ];
        let table = markdown(&rows);
        assert!(table.contains("| x | 1235 | ms | a\\|b |"));
        assert!(table.contains("| y | — |  | FAILED: boom |"));
    }
}
