//! `basalt-bench`: in-process throughput figures for `cargo xtask bench`.
//!
//! Prints one JSON object per line: `{"name": …, "value": …, "unit": …, "notes": …}`.
//! A figure that cannot be measured is printed with `"value": null` and the reason in `notes`.
//!
//! Usage: `basalt-bench [--config PATH] [--seconds S]` (S is the time budget per figure,
//! default 1.5).

mod apid;
mod figures;
mod input;
mod measure;
mod store;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use measure::Row;

/// Command-line options.
#[derive(Debug)]
struct Options {
    config: Option<PathBuf>,
    budget: Duration,
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("basalt-bench: {message}");
            eprintln!("usage: basalt-bench [--config PATH] [--seconds S]");
            return ExitCode::from(2);
        }
    };
    for row in store::figures(options.budget) {
        println!("{}", row.to_json_line());
    }
    for row in apid::figures(apid::DEFAULT_COUNTS) {
        println!("{}", row.to_json_line());
    }
    let input = match input::load(options.config.as_deref()) {
        Ok(input) => input,
        Err(reason) => {
            for name in ["decode + validate (metal)", "patch apply"] {
                println!("{}", Row::failed(name, &reason).to_json_line());
            }
            return ExitCode::SUCCESS;
        }
    };
    let mut rows = figures::decode_validate(&input, options.budget);
    rows.extend(figures::patch(&input, options.budget));
    for row in rows {
        println!("{}", row.to_json_line());
    }
    ExitCode::SUCCESS
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        config: None,
        budget: Duration::from_millis(1500),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => {
                let path = args.next().ok_or("--config needs a file path")?;
                options.config = Some(PathBuf::from(path));
            }
            "--seconds" => {
                let text = args.next().ok_or("--seconds needs a number")?;
                let seconds: f64 = text
                    .parse()
                    .map_err(|_| format!("--seconds: `{text}` is not a number"))?;
                if !(0.01..=600.0).contains(&seconds) {
                    return Err(format!("--seconds: {seconds} is outside 0.01..=600"));
                }
                options.budget = Duration::from_secs_f64(seconds);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn parses_config_and_seconds() {
        let options = parse_args(args(&["--config", "c.yaml", "--seconds", "0.5"])).unwrap();
        assert_eq!(options.config, Some(PathBuf::from("c.yaml")));
        assert_eq!(options.budget, Duration::from_millis(500));
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(parse_args(args(&["--seconds", "x"]))
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_args(args(&["--seconds", "0"])).is_err());
        assert!(parse_args(args(&["--config"])).is_err());
        assert!(parse_args(args(&["--bogus"]))
            .unwrap_err()
            .contains("--bogus"));
    }
}
