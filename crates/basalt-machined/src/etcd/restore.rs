//! Snapshot restore with `etcdctl snapshot restore`, run through machined's reaper (as PID 1
//! the reaper collects every child, so `Command::output` would lose the exit status).

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use basalt_etcd::EtcdError;

use super::error::EtcdServiceError;
use crate::process::Reaper;

/// What to restore where.
#[derive(Debug, Clone)]
pub struct Restore {
    /// The etcdctl binary.
    pub etcdctl: PathBuf,
    /// The snapshot file.
    pub snapshot: PathBuf,
    /// The (empty or missing) data directory to fill.
    pub data_dir: PathBuf,
    /// Member name.
    pub name: String,
    /// Member peer URL.
    pub peer_url: String,
    /// Skip the snapshot's integrity hash check.
    pub skip_hash_check: bool,
}

/// Restores into a staging sibling of the data directory, then renames it into place.
/// Blocking: call from a blocking thread.
pub fn restore(reaper: &Reaper, r: &Restore) -> Result<(), EtcdServiceError> {
    basalt_etcd::bootstrap::ensure_no_data(&r.data_dir)?;
    let name = r
        .data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "etcd".to_string());
    let staging = r.data_dir.with_file_name(format!(".{name}.restore"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .map_err(|e| EtcdServiceError::io("removing leftover directory", &staging, e))?;
    }
    if let Some(parent) = staging.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| EtcdServiceError::io("creating directory", parent, e))?;
    }
    let mut cmd = Command::new(&r.etcdctl);
    cmd.env_clear()
        .env("ETCDCTL_API", "3")
        .arg("snapshot")
        .arg("restore")
        .arg(&r.snapshot)
        .arg(format!("--data-dir={}", staging.display()))
        .arg(format!("--name={}", r.name))
        .arg(format!("--initial-cluster={}={}", r.name, r.peer_url))
        .arg(format!("--initial-advertise-peer-urls={}", r.peer_url))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if r.skip_hash_check {
        cmd.arg("--skip-hash-check=true");
    }
    let shown = format!(
        "`{} snapshot restore {}` into {}",
        r.etcdctl.display(),
        r.snapshot.display(),
        staging.display()
    );
    let failed = |reason: String| {
        EtcdServiceError::Etcd(EtcdError::Command {
            command: shown.clone(),
            reason,
        })
    };
    let (mut child, exit) = reaper.spawn(&mut cmd).map_err(|e| {
        failed(format!(
            "cannot start it: {e} (the image's etcd-client package provides {})",
            r.etcdctl.display()
        ))
    })?;
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _partial_output_is_fine = pipe.read_to_string(&mut stderr);
    }
    drop(child);
    let status = exit
        .blocking_recv()
        .map_err(|_| failed("the reaper stopped before it exited".into()))?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(failed(format!("{status}: {}", stderr.trim())));
    }
    if r.data_dir.exists() {
        // Empty (checked above): replace it.
        let _ = std::fs::remove_dir(&r.data_dir);
    }
    std::fs::rename(&staging, &r.data_dir)
        .map_err(|e| EtcdServiceError::io("moving the restored data into", &r.data_dir, e))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn staging_is_a_hidden_sibling() {
        let d = Path::new("/var/lib/etcd");
        let name = d.file_name().map(|n| n.to_string_lossy().into_owned());
        assert_eq!(
            d.with_file_name(format!(".{}.restore", name.unwrap_or_default())),
            Path::new("/var/lib/.etcd.restore")
        );
    }
}
