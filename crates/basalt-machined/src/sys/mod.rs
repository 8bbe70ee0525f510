//! The one module through which machined makes privileged system calls.
//!
//! Following youki's `Syscall` trait: platform, launcher and sequencer logic call a
//! [`Syscall`] object instead of the kernel directly. [`RealSyscall`] performs the calls with
//! safe `nix` APIs; [`RecordingSyscall`] only records them, so that logic is unit-tested
//! without root. Plain data files (configs, logs) are not privileged and use `std::fs`.

#[allow(unsafe_code)]
mod blkdev;
#[allow(unsafe_code)]
mod loopdev;
pub mod netlink;
mod real;
mod recording;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use nix::mount::{MntFlags, MsFlags};
pub use nix::sched::CloneFlags;
pub use nix::sys::reboot::RebootMode;
pub use nix::sys::signal::Signal;
pub use nix::unistd::Pid;
pub use real::RealSyscall;
pub use recording::RecordingSyscall;

/// A failed system call: which operation, on what, and the kernel's answer.
#[derive(Debug, thiserror::Error)]
#[error("{op} failed: {cause}")]
pub struct SysError {
    /// The operation as a readable line, e.g. `mount tmpfs on /run`.
    pub op: String,
    /// The error number returned by the kernel (or the I/O error behind it); shown in the
    /// message (deliberately not a `source()`, so error chains do not repeat it).
    pub cause: std::io::Error,
}

impl SysError {
    /// Wraps an errno for operation `op`.
    pub fn errno(op: impl Into<String>, errno: nix::errno::Errno) -> Self {
        SysError {
            op: op.into(),
            cause: std::io::Error::from(errno),
        }
    }

    /// Wraps an I/O error for operation `op`.
    pub fn io(op: impl Into<String>, cause: std::io::Error) -> Self {
        SysError {
            op: op.into(),
            cause,
        }
    }
}

/// Result of a [`Syscall`] method.
pub type SysResult<T = ()> = Result<T, SysError>;

/// Parameters of one `mount(2)` call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// Source (device, directory for binds, or a name like `proc`).
    pub source: Option<PathBuf>,
    /// Mount point.
    pub target: PathBuf,
    /// File system type (`proc`, `tmpfs` …); `None` for binds and remounts.
    pub fstype: Option<String>,
    /// `MS_*` flags.
    pub flags: MsFlags,
    /// File system specific options, e.g. `mode=0755`.
    pub data: Option<String>,
}

impl Mount {
    /// A new file system of type `fstype` (source named like the type) at `target`.
    pub fn fs(
        fstype: &str,
        target: impl Into<PathBuf>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> Self {
        Mount {
            source: Some(PathBuf::from(fstype)),
            target: target.into(),
            fstype: Some(fstype.to_string()),
            flags,
            data: data.map(str::to_string),
        }
    }

    /// A bind mount of `source` onto `target`.
    pub fn bind(source: impl Into<PathBuf>, target: impl Into<PathBuf>) -> Self {
        Mount {
            source: Some(source.into()),
            target: target.into(),
            fstype: None,
            flags: MsFlags::MS_BIND,
            data: None,
        }
    }

    /// Changes only flags of the mount at `target` (`MS_REMOUNT`, propagation …).
    pub fn flags_only(target: impl Into<PathBuf>, flags: MsFlags) -> Self {
        Mount {
            source: None,
            target: target.into(),
            fstype: None,
            flags,
            data: None,
        }
    }
}

impl fmt::Display for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mount ")?;
        if let Some(s) = &self.source {
            write!(f, "{} ", s.display())?;
        }
        write!(f, "on {}", self.target.display())?;
        if let Some(t) = &self.fstype {
            write!(f, " type {t}")?;
        }
        write!(f, " flags {}", flag_names(self.flags))?;
        if let Some(d) = &self.data {
            write!(f, " data {d}")?;
        }
        Ok(())
    }
}

/// `MS_BIND|MS_RDONLY` style rendering of mount flags (`0` when empty).
pub fn flag_names(flags: MsFlags) -> String {
    let names: Vec<&str> = flags.iter_names().map(|(name, _)| name).collect();
    if names.is_empty() {
        "0".to_string()
    } else {
        names.join("|")
    }
}

/// The privileged operations machined and the launcher need.
///
/// Every method takes plain values and returns a [`SysError`] that names the operation.
pub trait Syscall: Send + Sync + fmt::Debug {
    /// `mount(2)`.
    fn mount(&self, m: &Mount) -> SysResult;
    /// `umount2(2)`.
    fn umount(&self, target: &Path, flags: MntFlags) -> SysResult;
    /// `pivot_root(2)`.
    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> SysResult;
    /// `chroot(2)`.
    fn chroot(&self, path: &Path) -> SysResult;
    /// `chdir(2)`.
    fn chdir(&self, path: &Path) -> SysResult;
    /// `sethostname(2)` (in the caller's UTS namespace).
    fn sethostname(&self, name: &str) -> SysResult;
    /// `unshare(2)`.
    fn unshare(&self, flags: CloneFlags) -> SysResult;
    /// `reboot(2)`; returns only on failure.
    fn reboot(&self, mode: RebootMode) -> SysResult;
    /// `kill(2)`.
    fn kill(&self, pid: Pid, signal: Signal) -> SysResult;
    /// `sync(2)`.
    fn sync(&self);
    /// Creates a directory and its parents with `mode` (for mount points).
    fn mkdir_all(&self, path: &Path, mode: u32) -> SysResult;
    /// Creates an empty regular file with `mode` if missing (a bind mount point for a file).
    fn create_file(&self, path: &Path, mode: u32) -> SysResult;
    /// Creates a symbolic link `link` pointing to `target`.
    fn symlink(&self, target: &Path, link: &Path) -> SysResult;
    /// Removes everything inside `dir`, keeping `dir` itself (it may be a mount point).
    fn wipe_dir(&self, dir: &Path) -> SysResult;
    /// Sets the network link with interface index `index` up (1 is `lo` in every namespace).
    fn link_up(&self, index: u32) -> SysResult;
    /// `finit_module(2)` of the `.ko` file at `path` (no parameters); a module that is already
    /// loaded (`EEXIST`) counts as success.
    fn finit_module(&self, path: &Path) -> SysResult;
    /// Attaches `file` read-only to a free loop device; returns the device path (`/dev/loopN`).
    fn loop_attach(&self, file: &Path) -> SysResult<PathBuf>;
    /// Detaches loop device `device` (deferred by the kernel while it is still mounted).
    fn loop_detach(&self, device: &Path) -> SysResult;
    /// Makes `console` (e.g. `/dev/console`) stdin, stdout and stderr of this process.
    fn attach_console(&self, console: &Path) -> SysResult;
    /// `execv(2)` of `path` with `argv` (argv[0] included). The real call returns only on
    /// failure; a test double records it and returns `Ok(())`.
    fn exec(&self, path: &Path, argv: &[String]) -> SysResult;
    /// Sleeps for `duration` (a test double only records it).
    fn sleep(&self, duration: Duration);
    /// `BLKRRPART` on the whole disk `device`: the kernel re-reads its partition table and
    /// creates the partition devices (asynchronously, through devtmpfs).
    fn reread_partitions(&self, device: &Path) -> SysResult;
    /// `BLKPG_ADD_PARTITION`: registers partition `number` of the whole disk `device`
    /// (`start` and `length` in bytes) when the kernel's own parser did not find it.
    fn add_partition(&self, device: &Path, number: u32, start: u64, length: u64) -> SysResult;
}
