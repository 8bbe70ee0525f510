//! Formatting a partition as ext4 with Debian's `mke2fs` (shipped in the image).

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};

use super::DiskError;
use crate::process::Reaper;

/// Where the image holds `mke2fs`.
pub const MKE2FS: &str = "/usr/sbin/mke2fs";

/// `mke2fs -t ext4 -q -F -L LABEL -E lazy_itable_init=1,lazy_journal_init=1 DEVICE`, run with
/// an empty environment and `MKE2FS_CONFIG=/nonexistent` (its built-in defaults, the same on
/// a build host as in the image, which has no `/etc/mke2fs.conf`). The child is waited for
/// through `reaper` (machined's only `wait`); blocking: call from a blocking thread.
pub fn mke2fs(
    reaper: &Reaper,
    program: &Path,
    device: &Path,
    label: &str,
) -> Result<(), DiskError> {
    let failed = |why: String| DiskError::Format {
        program: program.to_path_buf(),
        device: device.to_path_buf(),
        label: label.to_string(),
        why,
    };
    let mut cmd = Command::new(program);
    cmd.args(["-t", "ext4", "-q", "-F", "-L", label, "-E"])
        .arg("lazy_itable_init=1,lazy_journal_init=1")
        .arg(device)
        .env_clear()
        .env("MKE2FS_CONFIG", "/nonexistent")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let (mut child, exit) = reaper
        .spawn(&mut cmd)
        .map_err(|e| failed(format!("cannot start it: {e}")))?;
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _partial_output_is_fine = pipe.read_to_string(&mut stderr);
    }
    drop(child);
    let status = exit
        .blocking_recv()
        .map_err(|_| failed("the reaper stopped before it exited".into()))?;
    if status.success() {
        Ok(())
    } else {
        Err(failed(format!("{status}: {}", stderr.trim())))
    }
}
