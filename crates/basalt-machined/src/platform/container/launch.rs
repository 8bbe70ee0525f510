//! The launcher process: namespaces, root, spawn, signal forwarding, exit status.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};

use nix::sys::signal::{SigSet, Signal};
use nix::unistd::Pid;

use super::rootfs::{self, LAUNCH_CONFIG, LAUNCH_MAINTENANCE_CA};
use super::LaunchOptions;
use crate::config_source::{
    write_atomically, PersistError, CONFIG_ARGUMENT, MAINTENANCE_CA_ARGUMENT,
};
use crate::machine::args::ArgsError;
use crate::platform::Paths;
use crate::sys::{CloneFlags, RealSyscall, SysError, Syscall};

/// Why `basalt launch` failed.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// Bad command line.
    #[error(transparent)]
    Args(#[from] ArgsError),
    /// The root directory is not a usable image.
    #[error("root directory {root} is not a usable node root; missing: {missing}. Create the empty mount point directories and put the basalt binary there (see `basalt launch` docs)")]
    BadRoot {
        /// The root given.
        root: PathBuf,
        /// Missing entries, comma-separated.
        missing: String,
    },
    /// `--root-image` names no file.
    #[error("--root-image {path}: no such file on the host; build it with `cargo xtask image` (target/image/rootfs.sqsh)")]
    NoImage {
        /// The path given.
        path: PathBuf,
    },
    /// The network namespace could not be joined.
    #[error(
        "cannot join the network namespace {path} (--netns; made with `ip netns add`?): {source}"
    )]
    Netns {
        /// The namespace file given.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A directory flag names no directory.
    #[error("{flag} {path}: not a directory on the host; create it first")]
    NotADirectory {
        /// The flag.
        flag: &'static str,
        /// The path given.
        path: PathBuf,
    },
    /// The config file could not be read or placed in the node.
    #[error("cannot pass {path} (--config or --maintenance-ca) into the node: {source}")]
    Config {
        /// The host file.
        path: PathBuf,
        /// What failed.
        source: PersistError,
    },
    /// A namespace, mount or pivot step failed (run as root, with namespace support).
    #[error("cannot set up the node's namespaces (run as root): {0}")]
    Sys(#[from] SysError),
    /// The child could not be started or waited for.
    #[error("cannot {op} machined ({exe}): {source}")]
    Spawn {
        /// `start` or `wait for`.
        op: &'static str,
        /// The binary inside the node.
        exe: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Waiting for signals failed.
    #[error("cannot wait for signals in the launcher: {0}")]
    Signals(nix::errno::Errno),
}

/// `basalt launch ARGS…`: returns the process exit code. Errors are printed to stderr.
pub fn main(args: &[String]) -> i32 {
    let result = LaunchOptions::parse(args)
        .map_err(LaunchError::from)
        .and_then(|opts| launch(&opts, &RealSyscall));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("basalt launch: {e}");
            1
        }
    }
}

/// Runs a node (see the `container` module docs) and returns machined's exit code.
///
/// Must be called while the process is single-threaded (mount namespaces cannot be
/// unshared by a multi-threaded process).
pub fn launch(opts: &LaunchOptions, sys: &dyn Syscall) -> Result<i32, LaunchError> {
    check_inputs(opts)?;
    let config = read_host_file(opts.config.as_ref())?;
    let maintenance_ca = read_host_file(opts.maintenance_ca.as_ref())?;
    let signals = forwarded_signals();
    signals.thread_block().map_err(LaunchError::Signals)?;
    let mut namespaces = CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC;
    match &opts.netns {
        Some(path) => join_netns(path)?,
        None => namespaces |= CloneFlags::CLONE_NEWNET,
    }
    sys.unshare(namespaces)?;
    rootfs::make_private(sys)?;
    if let Some(image) = &opts.root_image {
        rootfs::mount_image(sys, image, &opts.root)?;
        check_root(opts)?;
    }
    rootfs::build(sys, opts)?;
    if let (Some(bytes), Some(path)) = (&config, &opts.config) {
        let target = Paths::under(&opts.root).host(LAUNCH_CONFIG);
        place_config(&target, bytes).map_err(|source| LaunchError::Config {
            path: path.clone(),
            source,
        })?;
    }
    if let (Some(bytes), Some(path)) = (&maintenance_ca, &opts.maintenance_ca) {
        let target = Paths::under(&opts.root).host(LAUNCH_MAINTENANCE_CA);
        place_config(&target, bytes).map_err(|source| LaunchError::Config {
            path: path.clone(),
            source,
        })?;
    }
    rootfs::pivot(sys, &opts.root)?;
    if let Some(h) = &opts.hostname {
        sys.sethostname(h)?;
    }
    let mut child = spawn(opts, config.is_some(), maintenance_ca.is_some())?;
    println!("machined pid {}", child.id());
    let _ = std::io::stdout().flush();
    forward_until_exit(&mut child, &signals, sys, &opts.exe)
}

/// The bytes of a host file given by a flag (read before the namespaces change).
fn read_host_file(path: Option<&PathBuf>) -> Result<Option<Vec<u8>>, LaunchError> {
    let Some(path) = path else { return Ok(None) };
    std::fs::read(path)
        .map(Some)
        .map_err(|source| LaunchError::Config {
            path: path.clone(),
            source: PersistError::Io {
                op: "read",
                path: path.clone(),
                source,
            },
        })
}

/// Moves this process into the network namespace at `path` (before the other namespaces are
/// unshared, so machined's children inherit it). `setns(2)` needs no `unsafe` through nix.
fn join_netns(path: &std::path::Path) -> Result<(), LaunchError> {
    let err = |source| LaunchError::Netns {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(err)?;
    nix::sched::setns(&file, CloneFlags::CLONE_NEWNET)
        .map_err(|e| err(std::io::Error::from_raw_os_error(e as i32)))
}

/// The root holds the mount points and the binary (see [`rootfs::missing_entries`]).
fn check_root(opts: &LaunchOptions) -> Result<(), LaunchError> {
    let missing = rootfs::missing_entries(&opts.root, &opts.exe);
    if !missing.is_empty() {
        let missing: Vec<String> = missing.iter().map(|p| p.display().to_string()).collect();
        return Err(LaunchError::BadRoot {
            root: opts.root.clone(),
            missing: missing.join(", "),
        });
    }
    Ok(())
}

fn check_inputs(opts: &LaunchOptions) -> Result<(), LaunchError> {
    for (flag, path) in [
        ("--state", Some(&opts.state)),
        ("--ephemeral", Some(&opts.ephemeral)),
        ("--socket-dir", opts.socket_dir.as_ref()),
        ("--root", opts.root_image.as_ref().map(|_| &opts.root)),
    ] {
        if let Some(path) = path {
            if !path.is_dir() {
                let path = path.clone();
                return Err(LaunchError::NotADirectory { flag, path });
            }
        }
    }
    match &opts.root_image {
        // The image is checked once it is mounted, inside the node's mount namespace.
        Some(image) if !image.is_file() => Err(LaunchError::NoImage {
            path: image.clone(),
        }),
        Some(_) => Ok(()),
        None => check_root(opts),
    }
}

fn forwarded_signals() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.add(Signal::SIGCHLD);
    set
}

/// Writes the config to `target`, on the node's tmpfs `/run` (before the pivot).
fn place_config(target: &std::path::Path, bytes: &[u8]) -> Result<(), PersistError> {
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|source| PersistError::Io {
            op: "create",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    write_atomically(target, bytes, 0o600)
}

fn spawn(
    opts: &LaunchOptions,
    with_config: bool,
    with_maintenance_ca: bool,
) -> Result<Child, LaunchError> {
    let mut cmd = Command::new(&opts.exe);
    cmd.args(["machined", "--platform", "container"])
        .env_clear()
        .env("PATH", "/usr/bin:/usr/sbin:/bin:/sbin")
        .stdin(Stdio::null())
        .current_dir("/");
    if with_config {
        cmd.arg(format!("{CONFIG_ARGUMENT}{LAUNCH_CONFIG}"));
    }
    if with_maintenance_ca {
        cmd.arg(format!("{MAINTENANCE_CA_ARGUMENT}{LAUNCH_MAINTENANCE_CA}"));
    }
    // BASALT_FAILPOINT: test facility (see machine::config_apply)
    for key in ["RUST_BACKTRACE", "RUST_LOG", "BASALT_FAILPOINT"] {
        if let Ok(v) = std::env::var(key) {
            cmd.env(key, v);
        }
    }
    cmd.spawn().map_err(|source| LaunchError::Spawn {
        op: "start",
        exe: opts.exe.clone(),
        source,
    })
}

fn forward_until_exit(
    child: &mut Child,
    signals: &SigSet,
    sys: &dyn Syscall,
    exe: &std::path::Path,
) -> Result<i32, LaunchError> {
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let wait_err = |source| LaunchError::Spawn {
        op: "wait for",
        exe: exe.to_path_buf(),
        source,
    };
    loop {
        if let Some(status) = child.try_wait().map_err(wait_err)? {
            return Ok(exit_code(status));
        }
        match signals.wait().map_err(LaunchError::Signals)? {
            Signal::SIGCHLD => continue,
            sig => {
                if let Err(e) = sys.kill(pid, sig) {
                    eprintln!("basalt launch: cannot forward {sig} to machined: {e}");
                }
            }
        }
    }
}

/// The child's exit code, or 128 + signal number when a signal ended it.
fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sys::RecordingSyscall;

    #[test]
    fn bad_root_names_every_missing_entry() {
        let root = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let opts = LaunchOptions {
            root: root.path().into(),
            root_image: None,
            netns: None,
            state: state.path().into(),
            ephemeral: state.path().into(),
            hostname: None,
            config: None,
            maintenance_ca: None,
            socket_dir: None,
            exe: Paths::BASALT_BINARY.into(),
        };
        let sys = RecordingSyscall::new();
        let err = launch(&opts, &sys).unwrap_err().to_string();
        assert!(
            err.contains("proc") && err.contains("var") && err.contains("usr/bin/basalt"),
            "{err}"
        );
        assert!(
            sys.calls().is_empty(),
            "nothing may happen before the checks pass"
        );
    }
}
