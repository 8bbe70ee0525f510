//! The image signing key: an ed25519 PKCS#8 file, created with mode 0600 when missing.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::ImageError;
use crate::manifest;

/// The default key location: `~/.basalt/image-signing.pk8`.
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".basalt/image-signing.pk8"))
}

/// Reads the key at `path`, creating a fresh one (0600, folder 0700) if it does not exist.
/// Returns (pkcs8 bytes, public key, whether it was created now).
pub fn load_or_create(path: &Path) -> Result<(Vec<u8>, [u8; 32], bool), ImageError> {
    let key_err = |message: String| ImageError::Key {
        path: path.to_path_buf(),
        message,
    };
    let created = !path.exists();
    if created {
        if let Some(parent) = path.parent() {
            if !parent.exists() {
                std::fs::create_dir_all(parent).map_err(|e| ImageError::io("create", parent, e))?;
                std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| ImageError::io("set the mode of", parent, e))?;
            }
        }
        let pkcs8 = manifest::generate_key().map_err(|e| key_err(e.to_string()))?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| ImageError::io("create", path, e))?;
        file.write_all(&pkcs8)
            .map_err(|e| ImageError::io("write", path, e))?;
    }
    let pkcs8 = std::fs::read(path).map_err(|e| ImageError::io("read", path, e))?;
    let public = manifest::public_key_of(&pkcs8).map_err(|e| {
        key_err(format!(
            "{e}; expected an ed25519 PKCS#8 file (delete it to have a new one created, or pass another with --signing-key)"
        ))
    })?;
    Ok((pkcs8, public, created))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn creates_0600_then_reloads_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/key.pk8");
        let (_, public, created) = load_or_create(&path).unwrap();
        assert!(created);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (_, again, created) = load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(public, again);
        std::fs::write(&path, b"junk").unwrap();
        let err = load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("PKCS#8"), "{err}");
    }
}
