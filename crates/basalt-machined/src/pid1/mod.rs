//! PID-1 hygiene: console logging, the panic hook, signal handling.
//!
//! The checklist machined follows when it is PID 1 (of the machine, or of a pid namespace):
//! - start with an empty signal mask (a parent may have blocked signals);
//! - SIGPIPE stays ignored (Rust's runtime ignores it before `main`; a closed pipe must give
//!   `EPIPE`, not kill PID 1);
//! - a panic logs to the console, then reboots (metal) or exits with [`PANIC_EXIT_CODE`]
//!   (container: the pid namespace ends and the launcher reports the status);
//! - SIGTERM requests the shutdown sequence; SIGINT requests the reboot sequence (the kernel
//!   sends SIGINT to PID 1 on Ctrl-Alt-Del, which means "reboot"); in container mode the
//!   reboot happens in place;
//! - the one reaper (`process::Reaper`) collects every child and orphan;
//! - errors never end PID 1: sequences log them and leave the machine running.

pub mod console;
mod panic;
mod signals;

pub use panic::{install_panic_hook, PANIC_EXIT_CODE};
pub use signals::{Request, Signals};

/// Clears the signal mask of the calling thread (call first, before threads exist).
pub fn reset_signal_mask() -> Result<(), nix::errno::Errno> {
    nix::sys::signal::SigSet::empty().thread_set_mask()
}

/// SIGTERM and SIGINT: the signals PID 1 turns into sequences.
fn request_signals() -> nix::sys::signal::SigSet {
    let mut set = nix::sys::signal::SigSet::empty();
    set.add(nix::sys::signal::Signal::SIGTERM);
    set.add(nix::sys::signal::Signal::SIGINT);
    set
}

/// Blocks SIGTERM and SIGINT on the calling thread (and threads it creates later): a PID 1
/// of a pid namespace ignores signals it has no handler for, so until the handlers exist
/// they must stay pending rather than be lost.
pub fn hold_request_signals() -> Result<(), nix::errno::Errno> {
    request_signals().thread_block()
}

/// Unblocks SIGTERM and SIGINT on the calling thread once [`Signals`] listens; pending ones
/// are delivered then.
pub fn release_request_signals() -> Result<(), nix::errno::Errno> {
    request_signals().thread_unblock()
}

/// True when SIGPIPE is ignored by this process, read from `/proc/self/status` (`SigIgn`).
/// `None` when `/proc` is not readable yet.
pub fn sigpipe_ignored() -> Option<bool> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))?
        .trim();
    let bits = u64::from_str_radix(mask, 16).ok()?;
    let sigpipe = nix::sys::signal::Signal::SIGPIPE as u32;
    Some(bits & (1u64 << (sigpipe - 1)) != 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rust_runtime_ignores_sigpipe() {
        assert_eq!(super::sigpipe_ignored(), Some(true));
    }
}
