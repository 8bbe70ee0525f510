//! [`Syscall`] test double: records every call instead of making it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{CloneFlags, MntFlags, Mount, Pid, RebootMode, Signal, SysError, SysResult, Syscall};

/// Records calls as readable lines (`mount proc on /proc type proc flags …`) and succeeds,
/// except for calls containing a configured failure pattern, which fail with `EPERM`.
#[derive(Debug, Clone, Default)]
pub struct RecordingSyscall {
    calls: Arc<Mutex<Vec<String>>>,
    fail_on: Arc<Mutex<Vec<String>>>,
}

impl RecordingSyscall {
    /// A recorder where every call succeeds.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every later call whose line contains `pattern` fail with `EPERM`.
    pub fn fail_on(&self, pattern: &str) {
        self.fail_on
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(pattern.to_string());
    }

    /// The calls made so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets the calls recorded so far.
    pub fn clear(&self) {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn record(&self, line: String) -> SysResult {
        let fail = self
            .fail_on
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|p| line.contains(p.as_str()));
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line.clone());
        if fail {
            Err(SysError::errno(line, nix::errno::Errno::EPERM))
        } else {
            Ok(())
        }
    }
}

impl Syscall for RecordingSyscall {
    fn mount(&self, m: &Mount) -> SysResult {
        self.record(m.to_string())
    }

    fn umount(&self, target: &Path, flags: MntFlags) -> SysResult {
        let names: Vec<&str> = flags.iter_names().map(|(n, _)| n).collect();
        self.record(format!(
            "umount {} flags {}",
            target.display(),
            names.join("|")
        ))
    }

    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> SysResult {
        self.record(format!(
            "pivot_root {} {}",
            new_root.display(),
            put_old.display()
        ))
    }

    fn chroot(&self, path: &Path) -> SysResult {
        self.record(format!("chroot {}", path.display()))
    }

    fn chdir(&self, path: &Path) -> SysResult {
        self.record(format!("chdir {}", path.display()))
    }

    fn sethostname(&self, name: &str) -> SysResult {
        self.record(format!("sethostname {name}"))
    }

    fn unshare(&self, flags: CloneFlags) -> SysResult {
        let names: Vec<&str> = flags.iter_names().map(|(n, _)| n).collect();
        self.record(format!("unshare {}", names.join("|")))
    }

    fn reboot(&self, mode: RebootMode) -> SysResult {
        self.record(format!("reboot {mode:?}"))
    }

    fn kill(&self, pid: Pid, signal: Signal) -> SysResult {
        self.record(format!("kill {pid} {signal}"))
    }

    fn sync(&self) {
        let _ = self.record("sync".to_string());
    }

    fn mkdir_all(&self, path: &Path, mode: u32) -> SysResult {
        self.record(format!("mkdir {} {:o}", path.display(), mode))
    }

    fn create_file(&self, path: &Path, mode: u32) -> SysResult {
        self.record(format!("create {} {:o}", path.display(), mode))
    }

    fn symlink(&self, target: &Path, link: &Path) -> SysResult {
        self.record(format!(
            "symlink {} -> {}",
            link.display(),
            target.display()
        ))
    }

    fn wipe_dir(&self, dir: &Path) -> SysResult {
        self.record(format!("wipe {}", dir.display()))
    }

    fn link_up(&self, index: u32) -> SysResult {
        self.record(format!("link up {index}"))
    }

    fn finit_module(&self, path: &Path) -> SysResult {
        self.record(format!("finit_module {}", path.display()))
    }

    /// Records `loop attach FILE` and answers `/dev/loop0`.
    fn loop_attach(&self, file: &Path) -> SysResult<PathBuf> {
        self.record(format!("loop attach {}", file.display()))
            .map(|()| PathBuf::from("/dev/loop0"))
    }

    fn loop_detach(&self, device: &Path) -> SysResult {
        self.record(format!("loop detach {}", device.display()))
    }

    fn attach_console(&self, console: &Path) -> SysResult {
        self.record(format!("console {}", console.display()))
    }

    fn exec(&self, path: &Path, argv: &[String]) -> SysResult {
        self.record(format!("exec {} {}", path.display(), argv.join(" ")))
    }

    fn sleep(&self, duration: Duration) {
        let _ = self.record(format!("sleep {}ms", duration.as_millis()));
    }

    fn reread_partitions(&self, device: &Path) -> SysResult {
        self.record(format!("reread partitions {}", device.display()))
    }

    fn add_partition(&self, device: &Path, number: u32, start: u64, length: u64) -> SysResult {
        self.record(format!(
            "add partition {} {number} {start}+{length}",
            device.display()
        ))
    }
}
