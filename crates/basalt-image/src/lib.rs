//! Basalt's image builder: turns pinned Debian packages plus the static `basalt` binary into
//! a signed, reproducible boot image (`rootfs.sqsh`, `initramfs.img`, `vmlinuz`, `cmdline`,
//! `manifest.json`, `manifest.sig`).
//!
//! Every third-party input is listed with its exact version and sha256 in `image/inputs.yaml`;
//! nothing from the build host's installed files goes into the image.

pub mod binary;
pub mod build;
pub mod cpio;
pub mod error;
pub mod fetch;
pub mod initramfs;
pub mod inputs;
pub mod kernel;
pub mod keys;
pub mod kmods;
pub mod manifest;
pub mod rootfs;
pub mod squashfs;
pub mod tool;

pub use build::{build, BuildOptions, BuildReport, Step};
pub use error::ImageError;

/// The Basalt version the image carries (the workspace version).
pub const BASALT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Streams a file through sha256; returns (hex digest, size in bytes).
pub fn sha256_file(path: &std::path::Path) -> Result<(String, u64), ImageError> {
    use sha2::Digest;
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| ImageError::io("open", path, e))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| ImageError::io("read", path, e))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex(&hasher.finalize()), size))
}
