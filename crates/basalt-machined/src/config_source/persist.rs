//! Atomic file replacement: temporary file, fsync, rename, fsync of the directory.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// A failed step of [`write_atomically`].
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// An I/O step failed.
    #[error("cannot {op} {path}: {source} (check that the directory exists and is writable)")]
    Io {
        /// The step: `create`, `write`, `fsync`, `rename`, `read`.
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The target has no parent directory or no file name.
    #[error("cannot write {0}: it names no file inside a directory")]
    BadPath(PathBuf),
}

/// Replaces `target` with `bytes` so that a crash leaves either the old or the new content:
/// write `.<name>.tmp` next to it with `mode`, fsync it, rename it over `target`, fsync the
/// directory.
pub fn write_atomically(target: &Path, bytes: &[u8], mode: u32) -> Result<(), PersistError> {
    write_atomically_then(target, bytes, mode, &|| {})
}

/// [`write_atomically`], calling `after_temp` once the temporary file is written and synced
/// (before the rename): the hook of the crash-test failpoint.
pub fn write_atomically_then(
    target: &Path,
    bytes: &[u8],
    mode: u32,
    after_temp: &dyn Fn(),
) -> Result<(), PersistError> {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(PersistError::BadPath(target.to_path_buf()));
    };
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let io = |op, path: &Path| {
        let path = path.to_path_buf();
        move |source| PersistError::Io { op, path, source }
    };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io("create", &tmp))?;
    file.write_all(bytes).map_err(io("write", &tmp))?;
    file.sync_all().map_err(io("fsync", &tmp))?;
    drop(file);
    after_temp();
    fs::rename(&tmp, target).map_err(io("rename", &tmp))?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("fsync", dir))?;
    Ok(())
}

/// Renames `from` over `to` (same directory) and syncs the directory: an atomic promotion.
pub fn rename_atomically(from: &Path, to: &Path) -> Result<(), PersistError> {
    let Some(dir) = to.parent() else {
        return Err(PersistError::BadPath(to.to_path_buf()));
    };
    fs::rename(from, to).map_err(|source| PersistError::Io {
        op: "rename",
        path: from.to_path_buf(),
        source,
    })?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| PersistError::Io {
            op: "fsync",
            path: dir.to_path_buf(),
            source,
        })
}
