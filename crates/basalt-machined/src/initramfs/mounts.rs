//! The pseudo file systems `/init` needs before anything else.

use super::{BootError, Env};
use crate::sys::{Mount, MsFlags};

/// The console device taken as stdio once devtmpfs is mounted.
pub const CONSOLE: &str = "/dev/console";

/// The early mounts, in order: (fstype, mount point, flags, data).
pub fn early_mounts() -> Vec<Mount> {
    let hardened = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    vec![
        Mount::fs("proc", "/proc", hardened, None),
        Mount::fs("sysfs", "/sys", hardened, None),
        Mount::fs("devtmpfs", "/dev", MsFlags::MS_NOSUID, Some("mode=0755")),
    ]
}

/// Creates the mount points, mounts proc, sysfs and devtmpfs, then takes `/dev/console` as
/// stdio (the kernel may have had no console node to give PID 1; failing that is only noted).
pub fn early(env: &mut Env<'_>) -> Result<(), BootError> {
    for m in early_mounts() {
        env.sys.mkdir_all(&m.target, 0o755)?;
        env.sys.mount(&m)?;
    }
    if let Err(e) = env.sys.attach_console(std::path::Path::new(CONSOLE)) {
        env.say(format_args!("warning: {e}"));
    }
    Ok(())
}
