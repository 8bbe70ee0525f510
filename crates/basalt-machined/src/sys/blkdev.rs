//! Block device ioctls (`linux/fs.h`).
//!
//! `BLKRRPART` (`_IO(0x12, 95)`) asks the kernel to re-read a disk's partition table, so the
//! partition devices (`/dev/vda1` …) appear after we wrote a new GPT. It takes no argument, so
//! no kernel structure layout is involved.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

use super::{SysError, SysResult};

nix::ioctl_none!(blkrrpart, 0x12, 95);

/// Re-reads the partition table of the whole disk `device`.
pub(super) fn reread_partitions(device: &Path) -> SysResult {
    let op = || format!("re-read the partition table of {}", device.display());
    let dev = File::open(device).map_err(|e| SysError::io(op(), e))?;
    // SAFETY: BLKRRPART takes no argument; `dev` is an open descriptor of the block device
    // that lives across the call.
    unsafe { blkrrpart(dev.as_raw_fd()) }
        .map(drop)
        .map_err(|e| SysError::errno(op(), e))
}

/// `BLKPG_ADD_PARTITION` (`linux/blkpg.h`).
const BLKPG_ADD_PARTITION: i32 = 1;

/// `struct blkpg_partition` (`linux/blkpg.h`): offsets and length in bytes.
#[repr(C)]
struct BlkpgPartition {
    start: i64,
    length: i64,
    pno: i32,
    devname: [u8; 64],
    volname: [u8; 64],
}

/// `struct blkpg_ioctl_arg` (`linux/blkpg.h`).
#[repr(C)]
struct BlkpgIoctlArg {
    op: i32,
    flags: i32,
    datalen: i32,
    data: *mut BlkpgPartition,
}

nix::ioctl_write_ptr_bad!(blkpg, nix::request_code_none!(0x12, 105), BlkpgIoctlArg);

/// Tells the kernel about partition `number` of `device` (`BLKPG_ADD_PARTITION`): for kernels
/// whose own partition parsers do not see the table (e.g. built without GPT support). `EBUSY`
/// (the partition already exists) counts as success.
pub(super) fn add_partition(device: &Path, number: u32, start: u64, length: u64) -> SysResult {
    let op = || {
        format!(
            "add partition {number} (bytes {start}+{length}) to {}",
            device.display()
        )
    };
    let invalid = || SysError::io(op(), std::io::Error::from(std::io::ErrorKind::InvalidInput));
    let mut part = BlkpgPartition {
        start: i64::try_from(start).map_err(|_| invalid())?,
        length: i64::try_from(length).map_err(|_| invalid())?,
        pno: i32::try_from(number).map_err(|_| invalid())?,
        devname: [0; 64],
        volname: [0; 64],
    };
    let arg = BlkpgIoctlArg {
        op: BLKPG_ADD_PARTITION,
        flags: 0,
        datalen: i32::try_from(std::mem::size_of::<BlkpgPartition>()).map_err(|_| invalid())?,
        data: &mut part,
    };
    let dev = File::open(device).map_err(|e| SysError::io(op(), e))?;
    // SAFETY: BLKPG reads a `struct blkpg_ioctl_arg` whose `data` points to a
    // `struct blkpg_partition` of `datalen` bytes; both are `#[repr(C)]` copies of the
    // `linux/blkpg.h` layouts, live on this stack frame across the call, and `dev` is an open
    // descriptor of the block device.
    match unsafe { blkpg(dev.as_raw_fd(), &arg) } {
        Ok(_) | Err(nix::errno::Errno::EBUSY) => Ok(()),
        Err(e) => Err(SysError::errno(op(), e)),
    }
}
