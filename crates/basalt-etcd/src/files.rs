//! Writing secret files: mode 0600 from the start, atomically (temporary file + rename).

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::Path;

use crate::error::EtcdError;

/// Creates `dir` (mode 0700) and its parents when missing.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), EtcdError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| EtcdError::io("creating directory", dir, e))
}

/// Writes `contents` to `path` with mode 0600: into `.<name>.tmp` next to it, fsync, rename.
pub(crate) fn write_secret(path: &Path, contents: &[u8]) -> Result<(), EtcdError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| EtcdError::io("creating", &tmp, e))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| EtcdError::io("writing", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| EtcdError::io("renaming into place", path, e))
}
