//! What stops the boot path.

use std::fmt;
use std::path::PathBuf;

use basalt_image::manifest::VerifyError;

use crate::sys::SysError;

/// The console headline of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The image is not the one that was signed (or cannot be checked).
    Verification,
    /// Anything else: modules, loop device, mounts, exec.
    Boot,
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::Verification => "IMAGE VERIFICATION FAILED",
            FailureKind::Boot => "BOOT FAILED",
        })
    }
}

/// Why `/init` could not hand over to machined. `Display` is the reason alone; the console
/// line is `basalt: <kind>: <reason>`.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// Signature, manifest or rootfs check failed.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// `/manifest.json` or `/manifest.sig` could not be read.
    #[error("cannot read {path}: {cause} (the initramfs must hold /manifest.json, /manifest.sig and /rootfs.sqsh)")]
    ImageFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// No `modules.order` in the initramfs.
    #[error("no modules.order under {0}: the initramfs was built without kernel modules (rebuild it with `cargo xtask image`)")]
    NoModules(PathBuf),
    /// A module listed in `modules.order` is not in the initramfs.
    #[error("kernel module {name} listed in {order} is missing: {path} does not exist (rebuild the image with `cargo xtask image`)")]
    ModuleMissing {
        /// Module name (file stem).
        name: String,
        /// The `modules.order` file.
        order: PathBuf,
        /// Where the `.ko` was expected.
        path: PathBuf,
    },
    /// `modules.order` or a modules directory could not be read.
    #[error("cannot read {path}: {cause}")]
    ModulesIo {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// A privileged step failed.
    #[error(transparent)]
    Sys(#[from] SysError),
}

impl BootError {
    /// Which headline the console shows.
    pub fn kind(&self) -> FailureKind {
        match self {
            BootError::Verify(_) | BootError::ImageFile { .. } => FailureKind::Verification,
            _ => FailureKind::Boot,
        }
    }
}
