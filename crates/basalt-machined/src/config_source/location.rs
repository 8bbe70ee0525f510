//! What a `basalt.config=` value names: an http URL, a raw config disk or a file.

use std::fmt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::CONFIG_ARGUMENT;

/// Where a `basalt.config=` argument points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigLocation {
    /// `http://HOST[:PORT]/PATH`: fetched over the network (retried until the network is up).
    Url(String),
    /// A block device (`/dev/vdb`): its bytes are the YAML, padded with NUL bytes.
    Disk(PathBuf),
    /// A regular file inside the node.
    File(PathBuf),
}

/// A `basalt.config=` value that names nothing machined can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// `https://` needs a trust anchor the node does not have before its config.
    #[error(
        "{CONFIG_ARGUMENT}{0}: https is not supported yet; serve the config over http on a \
         trusted network or attach it as a raw config disk (basalt.config=/dev/vdb)"
    )]
    Https(String),
    /// Another scheme (`ftp://`, `tftp://` …).
    #[error(
        "{CONFIG_ARGUMENT}{0}: unsupported URL scheme; use http://HOST[:PORT]/PATH, a block \
         device or an absolute file path"
    )]
    Scheme(String),
    /// An http URL that does not parse (no host, bad port …).
    #[error(
        "{CONFIG_ARGUMENT}{url}: not a usable http URL ({reason}); use http://HOST[:PORT]/PATH"
    )]
    BadUrl {
        /// The value.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A relative path: there is no working directory to resolve it against.
    #[error(
        "{CONFIG_ARGUMENT}{0}: a path must be absolute (for example /dev/vdb or /run/config.yaml)"
    )]
    Relative(PathBuf),
}

impl ConfigLocation {
    /// Parses an argument value by its form: `http://…` is a URL, a path is a file (see
    /// [`ConfigLocation::resolve_device`] for block devices).
    pub fn parse(value: &Path) -> Result<Self, LocationError> {
        let text = value.to_string_lossy();
        if let Some((scheme, _)) = text.split_once("://") {
            return match scheme.to_ascii_lowercase().as_str() {
                "http" => {
                    super::fetch::HttpTarget::parse(&text)?;
                    Ok(ConfigLocation::Url(text.into_owned()))
                }
                "https" => Err(LocationError::Https(text.into_owned())),
                _ => Err(LocationError::Scheme(text.into_owned())),
            };
        }
        if !value.is_absolute() {
            return Err(LocationError::Relative(value.to_path_buf()));
        }
        Ok(ConfigLocation::File(value.to_path_buf()))
    }

    /// Turns a [`ConfigLocation::File`] whose `host` path (as seen by this process) is a block
    /// device into a [`ConfigLocation::Disk`]; everything else is returned unchanged.
    pub fn resolve_device(self, host: &Path) -> Self {
        match self {
            ConfigLocation::File(path) if is_block_device(host) => ConfigLocation::Disk(path),
            other => other,
        }
    }
}

fn is_block_device(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.file_type().is_block_device())
        .unwrap_or(false)
}

impl fmt::Display for ConfigLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigLocation::Url(url) => write!(f, "{CONFIG_ARGUMENT}{url}"),
            ConfigLocation::Disk(device) => {
                write!(f, "{CONFIG_ARGUMENT}{} (config disk)", device.display())
            }
            ConfigLocation::File(file) => write!(f, "{CONFIG_ARGUMENT}{}", file.display()),
        }
    }
}
