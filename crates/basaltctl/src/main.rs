//! `basaltctl`: the Basalt command-line client. This file only parses and dispatches;
//! each command group lives in its own module under `commands/`.

mod cli;
mod client;
mod commands;
mod global;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Usage errors keep clap's exit code (2); --help and --version exit 0.
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    let result = match cli.command {
        Command::Config(command) => commands::config::run(&cli.global, command),
        Command::Gen(command) => commands::gen::run(command),
        Command::Validate(args) => commands::validate::run(&args),
        Command::Machineconfig(command) => commands::machineconfig::run(command),
        Command::Completion(args) => commands::completion::run(&args),
        Command::Version(args) => commands::version::run(&cli.global, &args),
        Command::Bootstrap(args) => commands::bootstrap::run(&cli.global, &args),
        Command::Etcd(command) => commands::etcd::run(&cli.global, &command),
        Command::Service(args) => commands::services::run(&cli.global, &args),
        Command::Logs(args) => commands::logs::run(&cli.global, &args),
        Command::Events(args) => commands::events::run(&cli.global, &args),
        Command::Get(args) => commands::get::run(&cli.global, &args),
        Command::ApplyConfig(args) => commands::apply::run(&cli.global, &args),
        Command::Reboot(args) => commands::power::reboot(&cli.global, &args),
        Command::Shutdown(args) => commands::power::shutdown(&cli.global, &args),
        Command::Reset(args) => commands::reset::run(&cli.global, &args),
        Command::Health(args) => commands::health::run(&cli.global, &args),
        Command::Image(command) => commands::image::run(&command),
        Command::Cluster(command) => commands::cluster::run(&cli.global, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Each failed node was already reported on stderr as `NODE: error: ...`.
        Err(err) if err.is::<client::replies::NodesFailed>() => ExitCode::FAILURE,
        Err(err) => {
            // `{:#}` joins the cause chain with ": ".
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Replaces the default panic output (and backtrace) with one short message.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_string());
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: basaltctl crashed ({message}{location}); this is a bug, please report it"
        );
    }));
}
