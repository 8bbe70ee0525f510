//! Attaches the verified `/rootfs.sqsh` read-only to a free loop device.
//!
//! The image was verified by path a moment earlier; the initramfs is private to PID 1 and no
//! other process runs yet, so the file cannot change in between.

use std::path::PathBuf;

use super::verify::ROOTFS;
use super::{BootError, Env};

/// Returns the loop device (`/dev/loopN`) now backed by `/rootfs.sqsh`.
pub fn attach(env: &mut Env<'_>) -> Result<PathBuf, BootError> {
    let device = env.sys.loop_attach(&env.file(ROOTFS))?;
    env.say(format_args!("{ROOTFS} attached to {}", device.display()));
    Ok(device)
}
