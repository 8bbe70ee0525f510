//! `cargo xtask`: the project's own automation (tests, benchmarks, fuzzing, local set-up).
//!
//! This file only parses the command line and dispatches; each subcommand lives in its own module.

mod bench;
mod cmd;
mod fuzz;
mod image;
mod packages;
mod test;
mod up;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Basalt's project automation. Run as `cargo xtask <command>`.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every check CI runs: packages, fmt, clippy, tests.
    Test,
    /// Build release binaries, measure, print a table and write target/bench/.
    Bench,
    /// Build a fuzz target with coverage instrumentation (stable Rust) and run it.
    Fuzz(fuzz::Args),
    /// Build the boot image (rootfs.sqsh, initramfs.img, vmlinuz, cmdline, signed manifest).
    Image(image::Args),
    /// Prepare a local demo: build basaltctl, generate and validate a config.
    Up,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Test => test::run(),
        Command::Bench => bench::run(),
        Command::Fuzz(args) => fuzz::run(&args),
        Command::Up => up::run(),
        Command::Image(args) => image::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
