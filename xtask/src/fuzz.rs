//! `cargo xtask fuzz <target> [--seconds N]`: builds a libFuzzer target with the STABLE
//! toolchain and runs it for a bounded time.
//!
//! cargo-fuzz needs nightly only for `-Zsanitizer=address`; the coverage instrumentation that
//! libFuzzer feeds on (SanitizerCoverage) is reachable on stable through LLVM pass arguments.
//! We pass the same coverage flags cargo-fuzz passes, without a sanitizer: memory-safety bugs
//! are already excluded by `unsafe_code = "deny"`; panics, overflows and hangs are what we hunt.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::{cmd, packages};

/// Fuzz targets in `fuzz/fuzz_targets/`, and which fixture folder seeds each corpus.
const TARGETS: &[(&str, &str)] = &[("config", "crates/basalt-config/tests/fixtures")];

/// rustc flags for SanitizerCoverage as libFuzzer expects it (inline 8-bit counters, PC table,
/// comparison tracing, stack depth), plus `--cfg fuzzing` and the checks a fuzz build wants.
const RUSTFLAGS: &[&str] = &[
    "--cfg=fuzzing",
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "-Cllvm-args=-sanitizer-coverage-stack-depth",
    "-Cdebug-assertions",
    "-Coverflow-checks",
];

/// Arguments of `cargo xtask fuzz`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fuzz target to run (one of: config).
    target: String,
    /// How long to fuzz, in seconds.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
}

/// Builds and runs the target; fails on a crash (printing the artifact) or on missing coverage.
pub fn run(args: &Args) -> Result<()> {
    let fixtures = TARGETS
        .iter()
        .find(|(name, _)| *name == args.target)
        .map(|(_, fixtures)| *fixtures)
        .with_context(|| {
            let known: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
            format!(
                "unknown fuzz target `{}`; known targets: {}",
                args.target,
                known.join(", ")
            )
        })?;
    if args.seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    packages::ensure(packages::FOR_FUZZ)?;
    let fuzz_dir = cmd::root().join("fuzz");
    let binary = build(&fuzz_dir, &args.target)?;
    let corpus = fuzz_dir.join("corpus").join(&args.target);
    let seeded = seed_corpus(&corpus, &cmd::root().join(fixtures))?;
    println!(
        "xtask fuzz: corpus {} ({seeded} seed files copied)",
        corpus.display()
    );
    let artifacts = fuzz_dir.join("artifacts").join(&args.target);
    std::fs::create_dir_all(&artifacts)
        .with_context(|| format!("cannot create {}", artifacts.display()))?;
    execute(&binary, &corpus, &artifacts, args.seconds)
}

/// The host target triple, from `rustc -vV`. Passing `--target` explicitly keeps RUSTFLAGS
/// away from build scripts and proc macros, which must not be instrumented.
fn host_triple() -> Result<String> {
    let out = cmd::output(Command::new("rustc").arg("-vV"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_string)
        .context("`rustc -vV` printed no `host:` line")
}

fn build(fuzz_dir: &Path, target: &str) -> Result<PathBuf> {
    let triple = host_triple()?;
    let target_dir = fuzz_dir.join("target");
    println!("xtask fuzz: building `{target}` for {triple} (stable, SanitizerCoverage)");
    let mut build = cmd::cargo();
    build
        .args(["build", "--release", "--bin", target, "--target", &triple])
        .arg("--manifest-path")
        .arg(fuzz_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", RUSTFLAGS.join(" "));
    cmd::run(&mut build)?;
    Ok(target_dir.join(triple).join("release").join(target))
}

/// Copies every `.yaml`/`.yml` file under `fixtures` (recursively) into `corpus`.
/// Returns how many files were copied; existing corpus entries are kept.
fn seed_corpus(corpus: &Path, fixtures: &Path) -> Result<usize> {
    std::fs::create_dir_all(corpus)
        .with_context(|| format!("cannot create {}", corpus.display()))?;
    let mut files = Vec::new();
    collect_yaml(fixtures, &mut files);
    for file in &files {
        let relative = file.strip_prefix(fixtures).unwrap_or(file);
        let name = format!("seed-{}", relative.to_string_lossy().replace('/', "_"));
        std::fs::copy(file, corpus.join(&name))
            .with_context(|| format!("cannot copy {} into the corpus", file.display()))?;
    }
    Ok(files.len())
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.is_dir() {
            collect_yaml(&path, out);
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            out.push(path);
        }
    }
}

/// Runs the fuzzer, echoing its output, and checks that it reported coverage.
fn execute(binary: &Path, corpus: &Path, artifacts: &Path, seconds: u64) -> Result<()> {
    let mut prefix = artifacts.as_os_str().to_os_string();
    prefix.push("/");
    let mut fuzzer = Command::new(binary);
    fuzzer
        .arg(format!("-max_total_time={seconds}"))
        .arg({
            let mut arg = std::ffi::OsString::from("-artifact_prefix=");
            arg.push(&prefix);
            arg
        })
        .arg(corpus)
        .stderr(Stdio::piped());
    let shown = cmd::describe(&fuzzer);
    println!("xtask fuzz: running `{shown}`");
    let mut child = fuzzer
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let mut progress = Progress::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let line = line.context("reading the fuzzer's output")?;
            eprintln!("{line}");
            progress.observe(&line);
        }
    }
    let status = child.wait().context("waiting for the fuzzer")?;
    if !status.success() {
        let artifact = progress
            .artifact
            .unwrap_or_else(|| format!("(see {})", artifacts.display()));
        bail!(
            "fuzzer found a failing input ({status}); artifact: {artifact}. \
             Reproduce with `{} {artifact}`",
            binary.display()
        );
    }
    match (progress.first_cov, progress.last_cov) {
        (Some(first), Some(last)) => {
            println!(
                "xtask fuzz: ok, {seconds}s without a crash; coverage {first} -> {last} edges"
            );
            Ok(())
        }
        _ => bail!(
            "the fuzzer printed no `cov:` line: the binary is probably not instrumented; \
             check RUSTFLAGS in xtask/src/fuzz.rs"
        ),
    }
}

/// What we learn from libFuzzer's stderr.
#[derive(Debug, Default, PartialEq)]
struct Progress {
    first_cov: Option<u64>,
    last_cov: Option<u64>,
    artifact: Option<String>,
}

impl Progress {
    fn observe(&mut self, line: &str) {
        if let Some(cov) = cov_value(line) {
            self.first_cov.get_or_insert(cov);
            self.last_cov = Some(cov);
        }
        if let Some(rest) = line.split("Test unit written to ").nth(1) {
            self.artifact = Some(rest.trim().to_string());
        }
    }
}

/// The number after `cov: ` in a libFuzzer status line such as `#2 INITED cov: 97 ft: 98 ...`.
fn cov_value(line: &str) -> Option<u64> {
    let rest = line.split(" cov: ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn progress_tracks_coverage_and_artifact() {
        let mut progress = Progress::default();
        progress.observe("INFO: Seed: 123");
        progress.observe("#2\tINITED cov: 97 ft: 98 corp: 1/1b exec/s: 0 rss: 30Mb");
        progress.observe("#1024\tpulse  cov: 310 ft: 400 corp: 20/2Kb exec/s: 512 rss: 31Mb");
        progress.observe("artifact_prefix='a/'; Test unit written to a/crash-deadbeef");
        assert_eq!(progress.first_cov, Some(97));
        assert_eq!(progress.last_cov, Some(310));
        assert_eq!(progress.artifact.as_deref(), Some("a/crash-deadbeef"));
    }

    #[test]
    fn cov_value_ignores_other_lines() {
        assert_eq!(
            cov_value("INFO: Loaded 1 modules (5 inline 8-bit counters)"),
            None
        );
        assert_eq!(cov_value("#8 NEW cov: 12 ft: 13"), Some(12));
    }

    #[test]
    fn seed_corpus_copies_yaml_recursively() {
        let fixtures = tempfile::tempdir().unwrap();
        let corpus = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(fixtures.path().join("talos")).unwrap();
        std::fs::write(fixtures.path().join("talos/cp.yaml"), "version: v1alpha1").unwrap();
        std::fs::write(fixtures.path().join("notes.txt"), "not yaml").unwrap();
        let copied = seed_corpus(corpus.path(), fixtures.path()).unwrap();
        assert_eq!(copied, 1);
        let seeded = std::fs::read_to_string(corpus.path().join("seed-talos_cp.yaml")).unwrap();
        assert_eq!(seeded, "version: v1alpha1");
    }
}
