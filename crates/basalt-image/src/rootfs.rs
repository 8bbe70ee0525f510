//! Assembles the root filesystem folder that becomes `rootfs.sqsh`: the static `basalt`
//! binary, the pinned third-party runtimes and their libraries, empty mount points and
//! `/etc/os-release`. Every mode is set explicitly; owners and times are fixed by mksquashfs.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::ImageError;
use crate::inputs::Package;

/// Empty folders the image provides (mount points and places machined fills at run time).
pub const EMPTY_DIRS: &[&str] = &[
    "dev",
    "etc",
    "lib/x86_64-linux-gnu",
    "lib64",
    "proc",
    "run",
    "sys",
    "system",
    "tmp",
    "usr/bin",
    "usr/lib/basalt/services",
    "usr/sbin",
    "var",
];

/// The `/etc/os-release` content.
pub fn os_release(version: &str) -> String {
    format!(
        "NAME=\"Basalt\"\nID=basalt\nVERSION_ID={version}\nVERSION=\"{version}\"\nPRETTY_NAME=\"Basalt {version}\"\nHOME_URL=\"https://example.invalid/basalt\"\n"
    )
}

/// Builds the rootfs in `root` (must be empty or absent) from the static `basalt` binary and
/// the unpacked packages (`unpacked(name)` gives the folder each package was unpacked into).
pub fn assemble(
    root: &Path,
    basalt: &Path,
    packages: &[Package],
    unpacked: &dyn Fn(&str) -> std::path::PathBuf,
) -> Result<(), ImageError> {
    for dir in EMPTY_DIRS {
        mkdir(&root.join(dir))?;
    }
    copy(basalt, &root.join("usr/bin/basalt"), 0o755)?;
    for package in packages {
        let from_root = unpacked(&package.name);
        for file in &package.files {
            let source = from_root.join(&file.from);
            if !source.is_file() {
                return Err(ImageError::MissingInPackage {
                    package: package.name.clone(),
                    file: file.from.clone(),
                });
            }
            let target = root.join(&file.to);
            if let Some(parent) = target.parent() {
                mkdir(parent)?;
            }
            copy(&source, &target, file.mode_bits().unwrap_or(0o644))?;
        }
    }
    let loader = root.join("lib64/ld-linux-x86-64.so.2");
    std::os::unix::fs::symlink("../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", &loader)
        .map_err(|e| ImageError::io("create symlink", &loader, e))?;
    let release_file = root.join("etc/os-release");
    std::fs::write(&release_file, os_release(crate::BASALT_VERSION))
        .map_err(|e| ImageError::io("write", &release_file, e))?;
    set_mode(&release_file, 0o644)?;
    set_mode(&root.join("tmp"), 0o1777)?;
    set_mode(root, 0o755)?;
    Ok(())
}

fn mkdir(path: &Path) -> Result<(), ImageError> {
    std::fs::create_dir_all(path).map_err(|e| ImageError::io("create", path, e))?;
    // Every level we may have created gets 0755, regardless of the umask.
    set_mode(path, 0o755)
}

fn copy(from: &Path, to: &Path, mode: u32) -> Result<(), ImageError> {
    std::fs::copy(from, to).map_err(|e| ImageError::io("copy into the rootfs", from, e))?;
    set_mode(to, mode)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), ImageError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| ImageError::io("set the mode of", path, e))
}
