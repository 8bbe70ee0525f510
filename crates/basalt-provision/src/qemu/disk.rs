//! Raw disk images for the VM's virtio disk.

use std::fs::OpenOptions;
use std::path::Path;

use super::QemuError;

/// Creates (or truncates) a sparse raw disk image of `bytes` bytes at `path`.
pub fn create_raw_disk(path: &Path, bytes: u64) -> Result<(), QemuError> {
    let io = |action| {
        move |source| QemuError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    };
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(io("create disk image"))?;
    file.set_len(bytes).map_err(io("size disk image"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn disk_has_requested_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk.raw");
        create_raw_disk(&path, 1 << 30).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 1 << 30);
    }
}
