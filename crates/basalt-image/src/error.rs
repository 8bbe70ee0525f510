//! The image builder's error type: every variant says what failed, where, and what to do.

use std::path::{Path, PathBuf};

/// Everything that can go wrong while building an image.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A filesystem operation failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An external tool is not installed.
    #[error("`{tool}` is not installed: install the Debian package `{package}` (`apt-get install -y {package}`, or run `cargo xtask image`, which installs it)")]
    MissingTool { tool: String, package: String },
    /// An external tool ran but failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    ToolFailed {
        command: String,
        status: String,
        stderr: String,
    },
    /// `image/inputs.yaml` could not be read or is inconsistent.
    #[error("{}: {message}", path.display())]
    Inputs { path: PathBuf, message: String },
    /// A downloaded .deb does not have the pinned sha256.
    #[error("package {package} {version}: sha256 mismatch for {}: pinned {expected}, downloaded {actual}; the archive changed or the download is corrupt — check image/inputs.yaml", path.display())]
    HashMismatch {
        package: String,
        version: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },
    /// A file the inputs promise is missing from an unpacked package.
    #[error("package {package}: file `{file}` is not in the .deb; fix the `files` list in image/inputs.yaml")]
    MissingInPackage { package: String, file: String },
    /// A kernel module could not be found or resolved.
    #[error("kernel module `{module}`: {message}")]
    Module { module: String, message: String },
    /// The signing key is unusable.
    #[error("signing key {}: {message}", path.display())]
    Key { path: PathBuf, message: String },
    /// The manifest could not be built or signed.
    #[error("manifest: {0}")]
    Manifest(String),
}

impl ImageError {
    /// Shorthand for [`ImageError::Io`].
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        ImageError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
