//! [`Syscall`] performed for real with safe `nix` and `std` APIs.

use std::ffi::CString;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::kmod::ModuleInitFlags;

use super::{CloneFlags, MntFlags, Mount, Pid, RebootMode, Signal, SysError, SysResult, Syscall};

/// The real kernel.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealSyscall;

impl Syscall for RealSyscall {
    fn mount(&self, m: &Mount) -> SysResult {
        nix::mount::mount(
            m.source.as_deref(),
            &m.target,
            m.fstype.as_deref(),
            m.flags,
            m.data.as_deref(),
        )
        .map_err(|e| SysError::errno(m.to_string(), e))
    }

    fn umount(&self, target: &Path, flags: MntFlags) -> SysResult {
        nix::mount::umount2(target, flags)
            .map_err(|e| SysError::errno(format!("umount {}", target.display()), e))
    }

    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> SysResult {
        nix::unistd::pivot_root(new_root, put_old).map_err(|e| {
            let op = format!("pivot_root {} {}", new_root.display(), put_old.display());
            SysError::errno(op, e)
        })
    }

    fn chroot(&self, path: &Path) -> SysResult {
        nix::unistd::chroot(path)
            .map_err(|e| SysError::errno(format!("chroot {}", path.display()), e))
    }

    fn chdir(&self, path: &Path) -> SysResult {
        nix::unistd::chdir(path)
            .map_err(|e| SysError::errno(format!("chdir {}", path.display()), e))
    }

    fn sethostname(&self, name: &str) -> SysResult {
        nix::unistd::sethostname(name)
            .map_err(|e| SysError::errno(format!("sethostname {name:?}"), e))
    }

    fn unshare(&self, flags: CloneFlags) -> SysResult {
        nix::sched::unshare(flags).map_err(|e| SysError::errno(format!("unshare {flags:?}"), e))
    }

    fn reboot(&self, mode: RebootMode) -> SysResult {
        match nix::sys::reboot::reboot(mode) {
            Ok(never) => match never {},
            Err(e) => Err(SysError::errno(format!("reboot {mode:?}"), e)),
        }
    }

    fn kill(&self, pid: Pid, signal: Signal) -> SysResult {
        nix::sys::signal::kill(pid, signal)
            .map_err(|e| SysError::errno(format!("kill {pid} {signal}"), e))
    }

    fn sync(&self) {
        nix::unistd::sync();
    }

    fn mkdir_all(&self, path: &Path, mode: u32) -> SysResult {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(mode)
            .create(path)
            .map_err(|e| SysError::io(format!("mkdir {}", path.display()), e))
    }

    fn create_file(&self, path: &Path, mode: u32) -> SysResult {
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(SysError::io(format!("create file {}", path.display()), e)),
        }
    }

    fn symlink(&self, target: &Path, link: &Path) -> SysResult {
        std::os::unix::fs::symlink(target, link).map_err(|e| {
            let op = format!("symlink {} -> {}", link.display(), target.display());
            SysError::io(op, e)
        })
    }

    fn wipe_dir(&self, dir: &Path) -> SysResult {
        let op = || format!("wipe {}", dir.display());
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(SysError::io(op(), e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| SysError::io(op(), e))?;
            let path = entry.path();
            let is_dir = entry
                .file_type()
                .map_err(|e| SysError::io(op(), e))?
                .is_dir();
            let removed = if is_dir {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            removed.map_err(|e| SysError::io(format!("wipe {}", path.display()), e))?;
        }
        Ok(())
    }

    fn link_up(&self, index: u32) -> SysResult {
        super::netlink::link_up(index)
    }

    fn finit_module(&self, path: &Path) -> SysResult {
        let op = || format!("finit_module {}", path.display());
        let file = fs::File::open(path).map_err(|e| SysError::io(op(), e))?;
        match nix::kmod::finit_module(&file, c"", ModuleInitFlags::empty()) {
            Ok(()) | Err(Errno::EEXIST) => Ok(()),
            Err(e) => Err(SysError::errno(op(), e)),
        }
    }

    fn loop_attach(&self, file: &Path) -> SysResult<PathBuf> {
        super::loopdev::attach(file)
    }

    fn loop_detach(&self, device: &Path) -> SysResult {
        super::loopdev::detach(device)
    }

    fn attach_console(&self, console: &Path) -> SysResult {
        let op = || format!("attach console {}", console.display());
        let tty = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NOCTTY)
            .open(console)
            .map_err(|e| SysError::io(op(), e))?;
        nix::unistd::dup2_stdin(&tty).map_err(|e| SysError::errno(op(), e))?;
        nix::unistd::dup2_stdout(&tty).map_err(|e| SysError::errno(op(), e))?;
        nix::unistd::dup2_stderr(&tty).map_err(|e| SysError::errno(op(), e))
    }

    fn exec(&self, path: &Path, argv: &[String]) -> SysResult {
        let op = || format!("exec {} {}", path.display(), argv.join(" "));
        let invalid = || SysError::io(op(), std::io::Error::from(ErrorKind::InvalidInput));
        let prog = CString::new(path.as_os_str().as_bytes()).map_err(|_| invalid())?;
        let args = argv
            .iter()
            .map(|a| CString::new(a.as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| invalid())?;
        match nix::unistd::execv(&prog, &args) {
            Ok(never) => match never {},
            Err(e) => Err(SysError::errno(op(), e)),
        }
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn reread_partitions(&self, device: &Path) -> SysResult {
        super::blkdev::reread_partitions(device)
    }

    fn add_partition(&self, device: &Path, number: u32, start: u64, length: u64) -> SysResult {
        super::blkdev::add_partition(device, number, start, length)
    }
}
