//! The kernel artifacts: `vmlinuz` from the unpacked linux-image package and the `cmdline`.

use std::path::{Path, PathBuf};

use crate::error::ImageError;

/// `<unpacked>/boot/vmlinuz-<release>`, checked to exist.
pub fn vmlinuz(unpacked: &Path, release: &str) -> Result<PathBuf, ImageError> {
    let path = unpacked.join("boot").join(format!("vmlinuz-{release}"));
    if !path.is_file() {
        return Err(ImageError::MissingInPackage {
            package: format!("linux-image-{release}"),
            file: format!("boot/vmlinuz-{release}"),
        });
    }
    Ok(path)
}

/// `<unpacked>/lib/modules/<release>`, checked to exist.
pub fn modules_dir(unpacked: &Path, release: &str) -> Result<PathBuf, ImageError> {
    let path = unpacked.join("lib/modules").join(release);
    if !path.is_dir() {
        return Err(ImageError::MissingInPackage {
            package: format!("linux-image-{release}"),
            file: format!("lib/modules/{release}"),
        });
    }
    Ok(path)
}

/// The kernel command line file's content: the configured line, trimmed, no newline
/// (so `-append "$(cat cmdline)"` and readers that do not trim both work).
pub fn cmdline(configured: &str) -> String {
    configured.trim().to_string()
}
