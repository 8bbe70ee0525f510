//! The command line of `basalt runner`: parsing, and building it for the supervisor.

use std::fmt;
use std::str::FromStr;

use nix::sys::resource::Resource;

use super::WrapperError;

/// A resource limit the wrapper can set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RlimitResource {
    /// Open files (`RLIMIT_NOFILE`).
    Nofile,
    /// Processes of the user (`RLIMIT_NPROC`).
    Nproc,
    /// Core dump size (`RLIMIT_CORE`).
    Core,
    /// Locked memory (`RLIMIT_MEMLOCK`).
    Memlock,
}

impl RlimitResource {
    /// The lowercase name used on the command line (`nofile`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RlimitResource::Nofile => "nofile",
            RlimitResource::Nproc => "nproc",
            RlimitResource::Core => "core",
            RlimitResource::Memlock => "memlock",
        }
    }

    pub(super) fn to_nix(self) -> Resource {
        match self {
            RlimitResource::Nofile => Resource::RLIMIT_NOFILE,
            RlimitResource::Nproc => Resource::RLIMIT_NPROC,
            RlimitResource::Core => Resource::RLIMIT_CORE,
            RlimitResource::Memlock => Resource::RLIMIT_MEMLOCK,
        }
    }
}

impl fmt::Display for RlimitResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RlimitResource {
    type Err = WrapperError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "nofile" => Ok(RlimitResource::Nofile),
            "nproc" => Ok(RlimitResource::Nproc),
            "core" => Ok(RlimitResource::Core),
            "memlock" => Ok(RlimitResource::Memlock),
            _ => Err(WrapperError::Usage(format!(
                "unknown rlimit {s:?}; use one of nofile, nproc, core, memlock"
            ))),
        }
    }
}

/// What `basalt runner` applies before exec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WrapperArgs {
    /// Limits to set: resource, soft, hard (`u64::MAX` = unlimited).
    pub rlimits: Vec<(RlimitResource, u64, u64)>,
    /// Value for `/proc/self/oom_score_adj` (-1000..=1000).
    pub oom_score_adj: Option<i32>,
    /// Capabilities to drop, e.g. `CAP_NET_RAW`.
    pub drop_capabilities: Vec<String>,
    /// The program and its arguments.
    pub argv: Vec<String>,
}

const USAGE: &str = "usage: basalt runner [--rlimit NAME=SOFT:HARD]... [--oom-score-adj N] [--drop-cap CAP]... -- PROGRAM [ARG]...";

impl WrapperArgs {
    /// Parses the arguments that follow `runner`.
    pub fn parse(args: &[String]) -> Result<WrapperArgs, WrapperError> {
        let mut parsed = WrapperArgs::default();
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let mut value = |name: &str| {
                rest.next()
                    .cloned()
                    .ok_or_else(|| WrapperError::Usage(format!("{name} needs a value; {USAGE}")))
            };
            match arg.as_str() {
                "--" => {
                    parsed.argv = rest.cloned().collect();
                    break;
                }
                "--rlimit" => parsed.rlimits.push(parse_rlimit(&value("--rlimit")?)?),
                "--oom-score-adj" => {
                    let v = value("--oom-score-adj")?;
                    let n: i32 = v
                        .parse()
                        .ok()
                        .filter(|n| (-1000..=1000).contains(n))
                        .ok_or_else(|| {
                            WrapperError::Usage(format!(
                                "--oom-score-adj {v:?}: use a whole number from -1000 to 1000"
                            ))
                        })?;
                    parsed.oom_score_adj = Some(n);
                }
                "--drop-cap" => parsed.drop_capabilities.push(value("--drop-cap")?),
                other => {
                    return Err(WrapperError::Usage(format!(
                        "unexpected argument {other:?}; {USAGE}"
                    )))
                }
            }
        }
        if parsed.argv.is_empty() {
            return Err(WrapperError::Usage(format!(
                "no program given after \"--\"; {USAGE}"
            )));
        }
        Ok(parsed)
    }

    /// The arguments for `basalt runner` that reproduce these settings (without `runner`).
    pub fn to_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (resource, soft, hard) in &self.rlimits {
            out.push("--rlimit".into());
            out.push(format!(
                "{resource}={}:{}",
                limit_text(*soft),
                limit_text(*hard)
            ));
        }
        if let Some(n) = self.oom_score_adj {
            out.push("--oom-score-adj".into());
            out.push(n.to_string());
        }
        for cap in &self.drop_capabilities {
            out.push("--drop-cap".into());
            out.push(cap.clone());
        }
        out.push("--".into());
        out.extend(self.argv.iter().cloned());
        out
    }
}

fn limit_text(v: u64) -> String {
    if v == u64::MAX {
        "unlimited".into()
    } else {
        v.to_string()
    }
}

fn parse_limit(text: &str, whole: &str) -> Result<u64, WrapperError> {
    match text {
        "unlimited" | "infinity" => Ok(u64::MAX),
        n => n.parse().map_err(|_| {
            WrapperError::Usage(format!(
                "--rlimit {whole:?}: {n:?} is not a number; write NAME=SOFT:HARD, e.g. nofile=1024:4096 (or \"unlimited\")"
            ))
        }),
    }
}

fn parse_rlimit(text: &str) -> Result<(RlimitResource, u64, u64), WrapperError> {
    let shape = || {
        WrapperError::Usage(format!(
            "--rlimit {text:?}: write NAME=SOFT:HARD, e.g. nofile=1024:4096"
        ))
    };
    let (name, limits) = text.split_once('=').ok_or_else(shape)?;
    let (soft, hard) = limits.split_once(':').ok_or_else(shape)?;
    let (soft, hard) = (parse_limit(soft, text)?, parse_limit(hard, text)?);
    if soft > hard {
        return Err(WrapperError::Usage(format!(
            "--rlimit {text:?}: the soft limit is above the hard limit"
        )));
    }
    Ok((name.parse()?, soft, hard))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn parses_all_options_and_round_trips() {
        let a = WrapperArgs::parse(&args(&[
            "--rlimit",
            "nofile=64:128",
            "--rlimit",
            "core=0:unlimited",
            "--oom-score-adj",
            "-500",
            "--drop-cap",
            "CAP_NET_RAW",
            "--",
            "/bin/prog",
            "--flag",
        ]))
        .unwrap();
        assert_eq!(
            a.rlimits,
            vec![
                (RlimitResource::Nofile, 64, 128),
                (RlimitResource::Core, 0, u64::MAX)
            ]
        );
        assert_eq!(a.oom_score_adj, Some(-500));
        assert_eq!(a.drop_capabilities, vec!["CAP_NET_RAW"]);
        assert_eq!(a.argv, vec!["/bin/prog", "--flag"]);
        assert_eq!(WrapperArgs::parse(&a.to_args()).unwrap(), a);
    }

    #[test]
    fn rejects_bad_input_with_clear_messages() {
        let err = |s: &[&str]| WrapperArgs::parse(&args(s)).unwrap_err().to_string();
        assert!(err(&["--rlimit", "files=1:2", "--", "x"]).contains("unknown rlimit \"files\""));
        assert!(err(&["--rlimit", "nofile=9:2", "--", "x"]).contains("soft limit is above"));
        assert!(err(&["--rlimit", "nofile", "--", "x"]).contains("NAME=SOFT:HARD"));
        assert!(err(&["--oom-score-adj", "5000", "--", "x"]).contains("-1000 to 1000"));
        assert!(err(&["--rlimit"]).contains("needs a value"));
        assert!(err(&["--bogus", "--", "x"]).contains("unexpected argument"));
        assert!(err(&["--"]).contains("no program"));
    }
}
