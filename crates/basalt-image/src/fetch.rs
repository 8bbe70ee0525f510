//! Fetching pinned .debs with `apt-get download` into a cache, checking their sha256, and
//! unpacking them with `dpkg-deb -x` (never installing them).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::ImageError;
use crate::inputs::Package;
use crate::tool;

/// The cache file name for a package (`:` of an epoch is escaped like apt does).
pub fn cache_name(package: &Package) -> String {
    format!("{}_{}_amd64.deb", package.name, package.version).replace(':', "%3a")
}

/// Returns the cached .deb for `package`, downloading it when absent or wrong.
/// A download whose sha256 differs from the pinned one is an error naming both hashes.
pub fn fetch(package: &Package, cache_dir: &Path) -> Result<PathBuf, ImageError> {
    std::fs::create_dir_all(cache_dir).map_err(|e| ImageError::io("create", cache_dir, e))?;
    let target = cache_dir.join(cache_name(package));
    if target.exists() {
        let (actual, _) = crate::sha256_file(&target)?;
        if actual == package.sha256 {
            return Ok(target);
        }
        std::fs::remove_file(&target).map_err(|e| ImageError::io("remove", &target, e))?;
    }
    // Download into a private folder first, so a partial download never looks cached.
    let staging = tempfile::Builder::new()
        .prefix(".download-")
        .tempdir_in(cache_dir)
        .map_err(|e| ImageError::io("create a folder in", cache_dir, e))?;
    tool::run(
        Command::new("apt-get")
            .arg("download")
            .arg(format!("{}={}", package.name, package.version))
            .current_dir(staging.path()),
    )?;
    let downloaded = single_deb(staging.path())?;
    let (actual, _) = crate::sha256_file(&downloaded)?;
    if actual != package.sha256 {
        return Err(ImageError::HashMismatch {
            package: package.name.clone(),
            version: package.version.clone(),
            path: target,
            expected: package.sha256.clone(),
            actual,
        });
    }
    std::fs::rename(&downloaded, &target).map_err(|e| ImageError::io("move into", &target, e))?;
    Ok(target)
}

fn single_deb(dir: &Path) -> Result<PathBuf, ImageError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ImageError::io("list", dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| ImageError::io("list", dir, e))?.path();
        if path.extension().is_some_and(|ext| ext == "deb") {
            return Ok(path);
        }
    }
    Err(ImageError::ToolFailed {
        command: "apt-get download".into(),
        status: "no .deb written".into(),
        stderr: format!("nothing in {}", dir.display()),
    })
}

/// Unpacks `deb` into `dest` (created) with `dpkg-deb -x`.
pub fn unpack(deb: &Path, dest: &Path) -> Result<(), ImageError> {
    std::fs::create_dir_all(dest).map_err(|e| ImageError::io("create", dest, e))?;
    tool::run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(dest))?;
    Ok(())
}

/// Returns `<cache>/unpacked/<name>-<sha256 prefix>`, unpacking `deb` there the first time.
/// Keyed by the pinned sha256, so a different .deb never reuses a stale tree; a tree is
/// published by rename only when complete, so an interrupted unpack is never reused.
pub fn unpacked(package: &Package, deb: &Path, cache_dir: &Path) -> Result<PathBuf, ImageError> {
    let parent = cache_dir.join("unpacked");
    let target = parent.join(format!("{}-{}", package.name, &package.sha256[..16]));
    if target.is_dir() {
        return Ok(target);
    }
    std::fs::create_dir_all(&parent).map_err(|e| ImageError::io("create", &parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".unpack-")
        .tempdir_in(&parent)
        .map_err(|e| ImageError::io("create a folder in", &parent, e))?;
    unpack(deb, staging.path())?;
    let staged = staging.keep();
    std::fs::rename(&staged, &target).map_err(|e| ImageError::io("move into", &target, e))?;
    Ok(target)
}
