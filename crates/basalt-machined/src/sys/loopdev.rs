//! Loop devices through their ioctls (`linux/loop.h`); the only `unsafe` in machined.
//!
//! Attach: `LOOP_CTL_GET_FREE` on `/dev/loop-control` names a free device, `LOOP_SET_FD` binds
//! the backing file to it. Both the backing file and the device are opened read-only, so the
//! kernel marks the device read-only (`LO_FLAGS_READ_ONLY`). Another process may take the same
//! free device between the two calls (`EBUSY`): we then ask again. Only integer arguments are
//! passed, so no kernel structure layout is involved. The `loopdev` crate was not used: it needs
//! bindgen and libclang at build time.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;

use super::{SysError, SysResult};

const LOOP_CONTROL: &str = "/dev/loop-control";
const ATTEMPTS: u32 = 20;

nix::ioctl_none_bad!(loop_ctl_get_free, 0x4C82);
nix::ioctl_write_int_bad!(loop_set_fd, 0x4C00);
nix::ioctl_none_bad!(loop_clr_fd, 0x4C01);

/// Attaches `file` read-only to a free loop device and returns the device path.
pub(super) fn attach(file: &Path) -> SysResult<PathBuf> {
    let op = |what: &str| format!("loop attach {}: {what}", file.display());
    let backing = File::open(file).map_err(|e| SysError::io(op("open backing file"), e))?;
    let control = OpenOptions::new()
        .read(true)
        .write(true)
        .open(LOOP_CONTROL)
        .map_err(|e| {
            SysError::io(
                op(&format!("open {LOOP_CONTROL} (is the loop driver loaded?)")),
                e,
            )
        })?;
    let mut last = Errno::EBUSY;
    for _ in 0..ATTEMPTS {
        // SAFETY: LOOP_CTL_GET_FREE takes no argument; `control` is an open descriptor of
        // /dev/loop-control that lives across the call.
        let index = unsafe { loop_ctl_get_free(control.as_raw_fd()) }
            .map_err(|e| SysError::errno(op("LOOP_CTL_GET_FREE"), e))?;
        let device = PathBuf::from(format!("/dev/loop{index}"));
        let dev = match File::open(&device) {
            Ok(dev) => dev,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // devtmpfs creates the node asynchronously right after the device appears.
                last = Errno::ENOENT;
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            Err(e) => {
                return Err(SysError::io(op(&format!("open {}", device.display())), e));
            }
        };
        // SAFETY: LOOP_SET_FD takes the backing file's descriptor as an integer; both `dev`
        // and `backing` are open descriptors that live across the call.
        match unsafe { loop_set_fd(dev.as_raw_fd(), backing.as_raw_fd()) } {
            Ok(_) => return Ok(device),
            Err(Errno::EBUSY) => last = Errno::EBUSY,
            Err(e) => {
                let what = format!("LOOP_SET_FD on {}", device.display());
                return Err(SysError::errno(op(&what), e));
            }
        }
    }
    Err(SysError::errno(
        op(&format!(
            "no usable free loop device after {ATTEMPTS} attempts"
        )),
        last,
    ))
}

/// Detaches `device`; while it is still mounted the kernel defers this to the last close.
pub(super) fn detach(device: &Path) -> SysResult {
    let op = || format!("loop detach {}", device.display());
    let dev = File::open(device).map_err(|e| SysError::io(op(), e))?;
    // SAFETY: LOOP_CLR_FD takes no argument; `dev` is an open descriptor of the loop device
    // that lives across the call.
    unsafe { loop_clr_fd(dev.as_raw_fd()) }
        .map(drop)
        .map_err(|e| SysError::errno(op(), e))
}
