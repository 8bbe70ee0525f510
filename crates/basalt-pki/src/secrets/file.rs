//! Reading and writing `secrets.yaml`.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::SecretsBundle;
use crate::error::{PkiError, Result};

/// File mode of a written secrets bundle: readable by its owner only.
pub const SECRETS_FILE_MODE: u32 = 0o600;

impl SecretsBundle {
    /// Serialises to YAML in Talos's `secrets.yaml` layout.
    pub fn to_yaml(&self) -> Result<String> {
        serde_yaml::to_string(self).map_err(|e| PkiError::Yaml {
            message: e.to_string(),
        })
    }

    /// Parses YAML strictly (unknown fields are errors) and validates every field.
    ///
    /// Errors name the field path (and line for syntax/shape errors).
    pub fn from_yaml(text: &str) -> Result<Self> {
        let bundle: SecretsBundle = serde_yaml::from_str(text).map_err(|e| PkiError::Yaml {
            message: e.to_string(),
        })?;
        bundle.validate()?;
        Ok(bundle)
    }

    /// Reads and validates a bundle file; errors name the file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = fs::read_to_string(path).map_err(|source| PkiError::Io {
            action: "reading",
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_yaml(&text).map_err(|e| PkiError::InFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// Writes the bundle as YAML with mode 0600 (also tightening an existing file's mode).
    pub fn write_file(&self, path: &Path) -> Result<()> {
        let yaml = self.to_yaml()?;
        let io_err = |source| PkiError::Io {
            action: "writing",
            path: path.to_path_buf(),
            source,
        };
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(SECRETS_FILE_MODE)
            .open(path)
            .map_err(io_err)?;
        file.set_permissions(fs::Permissions::from_mode(SECRETS_FILE_MODE))
            .map_err(io_err)?;
        file.write_all(yaml.as_bytes()).map_err(io_err)?;
        file.sync_all().map_err(io_err)
    }
}
