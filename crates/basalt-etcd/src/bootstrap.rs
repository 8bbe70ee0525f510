//! Bootstrap preconditions and snapshot restore.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::EtcdError;

/// Refuses when `data_dir` holds anything but `lost+found` (a missing directory is fine):
/// Bootstrap starts a brand-new cluster and must never overwrite a member's data.
pub fn ensure_no_data(data_dir: &Path) -> Result<(), EtcdError> {
    let entries = match std::fs::read_dir(data_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(EtcdError::io("reading directory", data_dir, e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| EtcdError::io("reading directory", data_dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != "lost+found" {
            found.push(name);
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    found.sort();
    Err(EtcdError::DataExists {
        path: data_dir.to_path_buf(),
        found: found.join(", "),
    })
}

/// Restores `snapshot` (from `etcdctl snapshot save` or `EtcdSnapshot`) into `data_dir`
/// as a one-member cluster `name` at `peer_url`, verifying the snapshot's hash.
pub fn restore_snapshot(
    etcdctl: &Path,
    snapshot: &Path,
    data_dir: &Path,
    name: &str,
    peer_url: &str,
) -> Result<(), EtcdError> {
    restore(etcdctl, snapshot, data_dir, name, peer_url, false)
}

/// As [`restore_snapshot`] but without the hash check (for a copied database file,
/// Talos's `--recover-skip-hash-check`).
pub fn restore_snapshot_unverified(
    etcdctl: &Path,
    snapshot: &Path,
    data_dir: &Path,
    name: &str,
    peer_url: &str,
) -> Result<(), EtcdError> {
    restore(etcdctl, snapshot, data_dir, name, peer_url, true)
}

fn restore(
    etcdctl: &Path,
    snapshot: &Path,
    data_dir: &Path,
    name: &str,
    peer_url: &str,
    skip_hash_check: bool,
) -> Result<(), EtcdError> {
    ensure_no_data(data_dir)?;
    if !snapshot.is_file() {
        return Err(EtcdError::io(
            "reading snapshot",
            snapshot,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        ));
    }
    // etcdctl insists on creating the data directory itself: restore next to it, then rename.
    let staging = sibling(data_dir, "restore");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .map_err(|e| EtcdError::io("removing leftover directory", &staging, e))?;
    }
    if let Some(parent) = staging.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| EtcdError::io("creating directory", parent, e))?;
    }
    let mut cmd = Command::new(etcdctl);
    cmd.env("ETCDCTL_API", "3")
        .arg("snapshot")
        .arg("restore")
        .arg(snapshot)
        .arg(format!("--data-dir={}", staging.display()))
        .arg(format!("--name={name}"))
        .arg(format!("--initial-cluster={name}={peer_url}"))
        .arg(format!("--initial-advertise-peer-urls={peer_url}"));
    if skip_hash_check {
        cmd.arg("--skip-hash-check=true");
    }
    let shown = format!(
        "`{} snapshot restore {}` into {}",
        etcdctl.display(),
        snapshot.display(),
        staging.display()
    );
    let out = cmd.output().map_err(|e| EtcdError::Command {
        command: shown.clone(),
        reason: format!("cannot start it: {e} (is the etcd-client package / image file present?)"),
    })?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(EtcdError::Command {
            command: shown,
            reason: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    if data_dir.exists() {
        // Empty (checked above): replace it.
        let _ = std::fs::remove_dir(data_dir);
    }
    std::fs::rename(&staging, data_dir)
        .map_err(|e| EtcdError::io("moving the restored data into", data_dir, e))
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "etcd".to_string());
    dir.with_file_name(format!(".{name}.{suffix}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_an_empty_or_missing_dir_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("etcd");
        ensure_no_data(&data).unwrap();
        std::fs::create_dir_all(data.join("lost+found")).unwrap();
        ensure_no_data(&data).unwrap();
        std::fs::create_dir_all(data.join("member/wal")).unwrap();
        let err = ensure_no_data(&data).unwrap_err().to_string();
        assert!(
            err.contains("member") && err.contains(&data.display().to_string()),
            "{err}"
        );
    }
}
