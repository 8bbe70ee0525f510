//! `cargo xtask test`: the full check that CI runs (`.ci/run` execs this).
//!
//! Steps run in order, each timed; the first failing step stops the run with a non-zero exit.
//! No step is optional, so a local run and a CI run (`CI=true`) check the same things.

use std::time::Instant;

use anyhow::{bail, Result};

use crate::{cmd, packages};

/// One named step of the check.
struct Step {
    name: &'static str,
    run: fn() -> Result<()>,
}

const STEPS: &[Step] = &[
    Step {
        name: "system packages",
        run: system_packages,
    },
    Step {
        name: "cargo fmt --check",
        run: fmt,
    },
    Step {
        name: "cargo clippy -D warnings",
        run: clippy,
    },
    Step {
        name: "cargo xtask image (artifacts the QEMU boot tests use)",
        run: image,
    },
    Step {
        name: "cargo test --workspace",
        run: tests,
    },
    Step {
        name: "rustfmt --check fuzz/",
        run: fmt_fuzz,
    },
];

/// Runs every step; returns an error naming the first step that failed.
pub fn run() -> Result<()> {
    let total = Instant::now();
    if cmd::is_ci() {
        println!("xtask test: CI=true, running every step");
    }
    for (index, step) in STEPS.iter().enumerate() {
        let number = index + 1;
        println!("==> [{number}/{}] {}", STEPS.len(), step.name);
        let started = Instant::now();
        let result = (step.run)();
        let took = cmd::secs(started.elapsed());
        match result {
            Ok(()) => println!("<== [{number}/{}] {} ok ({took})", STEPS.len(), step.name),
            Err(err) => {
                eprintln!("{err:#}");
                bail!(
                    "xtask test FAILED at step {number}/{} `{}` after {took} (total {}); fix it and run `cargo xtask test` again",
                    STEPS.len(),
                    step.name,
                    cmd::secs(total.elapsed())
                );
            }
        }
    }
    println!(
        "xtask test: all {} steps passed in {}",
        STEPS.len(),
        cmd::secs(total.elapsed())
    );
    Ok(())
}

fn system_packages() -> Result<()> {
    packages::ensure(packages::FOR_TESTS)
}

fn fmt() -> Result<()> {
    cmd::run(cmd::cargo().args(["fmt", "--all", "--check"]))
}

fn clippy() -> Result<()> {
    cmd::run(cmd::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

/// Builds the signed boot image into `target/image` (cached downloads make reruns quick); the
/// QEMU tests boot it and fail loudly without it.
fn image() -> Result<()> {
    crate::image::run(&crate::image::Args {
        out: None,
        signing_key: None,
    })
}

/// `cargo test` without `--all-targets`, so doc tests run too.
fn tests() -> Result<()> {
    cmd::run(cmd::cargo().args(["test", "--workspace"]))
}

/// The fuzz crate is excluded from the workspace; check its sources with rustfmt directly,
/// which needs no dependency resolution (no network, no build).
fn fmt_fuzz() -> Result<()> {
    let dir = cmd::root().join("fuzz").join("fuzz_targets");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    if files.is_empty() {
        bail!(
            "no fuzz targets found in {}: the fuzz crate is missing",
            dir.display()
        );
    }
    files.sort();
    cmd::run(
        std::process::Command::new("rustfmt")
            .args(["--check", "--edition", "2021"])
            .args(&files),
    )
}
