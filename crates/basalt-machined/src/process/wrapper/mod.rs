//! `basalt runner`: the exec wrapper. It applies resource limits, the OOM score adjustment and
//! capability drops to itself, then execs the service program (which inherits them). The
//! supervisor puts it in front of a service only when one of these is requested.

mod args;

use std::ffi::CString;
use std::str::FromStr;

use caps::{CapSet, Capability};

pub use args::{RlimitResource, WrapperArgs};

/// Why the wrapper could not run the program.
#[derive(Debug, thiserror::Error)]
pub enum WrapperError {
    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// `setrlimit` failed.
    #[error("cannot set rlimit {resource} to {soft}:{hard}: {source}; the hard limit cannot be raised without CAP_SYS_RESOURCE")]
    Rlimit {
        /// The resource.
        resource: RlimitResource,
        /// Soft limit.
        soft: u64,
        /// Hard limit.
        hard: u64,
        /// The cause.
        #[source]
        source: nix::Error,
    },
    /// Writing `/proc/self/oom_score_adj` failed.
    #[error("cannot write {value} to /proc/self/oom_score_adj: {source}; lowering the score needs CAP_SYS_RESOURCE and /proc must be mounted")]
    OomScore {
        /// The value.
        value: i32,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A capability name is unknown.
    #[error("unknown capability {0:?}; use a Linux capability name such as CAP_NET_RAW")]
    UnknownCapability(String),
    /// Dropping a capability failed.
    #[error("cannot drop {cap} from the {set} set: {source}; dropping from the bounding set needs CAP_SETPCAP")]
    DropCapability {
        /// The capability.
        cap: String,
        /// Which set.
        set: &'static str,
        /// The cause.
        #[source]
        source: caps::errors::CapsError,
    },
    /// An argument contains a NUL byte.
    #[error("argument {0:?} contains a NUL byte and cannot be passed to exec")]
    NulByte(String),
    /// exec failed.
    #[error(
        "cannot execute {program:?}: {source}; check that it exists, is executable and is in PATH"
    )]
    Exec {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: nix::Error,
    },
}

/// Entry point of `basalt runner`: `args` are the arguments after `runner`. Only returns on
/// error, after printing one line to stderr; the return value (127) is the exit code.
pub fn main(args: Vec<String>) -> i32 {
    let error = match WrapperArgs::parse(&args).and_then(|a| run(&a)) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    eprintln!("basalt runner: {error}");
    127
}

/// Applies everything in `args` to this process and execs the program.
pub fn run(args: &WrapperArgs) -> Result<std::convert::Infallible, WrapperError> {
    for (resource, soft, hard) in &args.rlimits {
        nix::sys::resource::setrlimit(resource.to_nix(), *soft, *hard).map_err(|source| {
            WrapperError::Rlimit {
                resource: *resource,
                soft: *soft,
                hard: *hard,
                source,
            }
        })?;
    }
    if let Some(value) = args.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", value.to_string())
            .map_err(|source| WrapperError::OomScore { value, source })?;
    }
    drop_capabilities(&args.drop_capabilities)?;
    exec(&args.argv)
}

fn drop_capabilities(names: &[String]) -> Result<(), WrapperError> {
    let mut list = Vec::new();
    for name in names {
        let cap = Capability::from_str(&caps::to_canonical(name))
            .map_err(|_| WrapperError::UnknownCapability(name.clone()))?;
        list.push(cap);
    }
    // The bounding set first: dropping from it needs CAP_SETPCAP, which may be in the list.
    let sets = [
        (CapSet::Bounding, "bounding"),
        (CapSet::Ambient, "ambient"),
        (CapSet::Inheritable, "inheritable"),
        (CapSet::Effective, "effective"),
        (CapSet::Permitted, "permitted"),
    ];
    for (set, set_name) in sets {
        for cap in &list {
            caps::drop(None, set, *cap).map_err(|source| WrapperError::DropCapability {
                cap: cap.to_string(),
                set: set_name,
                source,
            })?;
        }
    }
    Ok(())
}

fn exec(argv: &[String]) -> Result<std::convert::Infallible, WrapperError> {
    let c_args = argv
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|_| WrapperError::NulByte(a.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(program) = c_args.first() else {
        return Err(WrapperError::Usage("no program given".into()));
    };
    nix::unistd::execvp(program, &c_args).map_err(|source| WrapperError::Exec {
        program: argv[0].clone(),
        source,
    })
}
