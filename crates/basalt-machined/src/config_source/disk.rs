//! Raw config disks: a block device whose bytes are the config YAML, padded with NUL bytes
//! (`truncate -s 1M cfg.raw && dd if=worker.yaml of=cfg.raw conv=notrunc`).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::MAX_CONFIG_BYTES;

/// Reading a raw config disk failed.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// The device cannot be opened or read.
    #[error("cannot read the config disk {device}: {source} (check that the disk is attached)")]
    Io {
        /// The device.
        device: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The first byte is NUL (or the device is empty).
    #[error(
        "the config disk {0} is empty (its first byte is NUL); write the config YAML at the \
         start of the disk"
    )]
    Empty(PathBuf),
    /// More than [`MAX_CONFIG_BYTES`] before the first NUL.
    #[error(
        "the config disk {device} holds more than {limit} bytes before the first NUL byte; a \
         config disk is the YAML padded with NUL bytes, at most {limit} bytes"
    )]
    TooBig {
        /// The device.
        device: PathBuf,
        /// The limit.
        limit: usize,
    },
}

/// Reads the config from `host` (the device as seen by this process; `device` names it in
/// errors): the bytes up to the first NUL or the end, at most [`MAX_CONFIG_BYTES`].
pub fn read_config_disk(host: &Path, device: &Path) -> Result<Vec<u8>, DiskError> {
    read_limited(host, device, MAX_CONFIG_BYTES)
}

pub(super) fn read_limited(host: &Path, device: &Path, limit: usize) -> Result<Vec<u8>, DiskError> {
    let io = |source| DiskError::Io {
        device: device.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(host).map_err(io)?;
    // one byte more than the limit tells "exactly at the limit" from "too big"
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut reader = file.take(cap);
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        let read = &chunk[..n];
        if let Some(nul) = read.iter().position(|&b| b == 0) {
            bytes.extend_from_slice(&read[..nul]);
            break;
        }
        bytes.extend_from_slice(read);
    }
    if bytes.len() > limit {
        return Err(DiskError::TooBig {
            device: device.to_path_buf(),
            limit,
        });
    }
    if bytes.is_empty() {
        return Err(DiskError::Empty(device.to_path_buf()));
    }
    Ok(bytes)
}
