//! Packs the rootfs folder into a reproducible zstd SquashFS with `mksquashfs`.

use std::path::Path;
use std::process::Command;

use crate::error::ImageError;
use crate::tool;

/// Images below this size are zero-padded up to it (tiny images make the kernel's
/// partition probe print a harmless but confusing warning).
pub const MIN_SIZE: u64 = 1 << 20;

/// The mksquashfs arguments after `DIR OUT`: zstd, fixed owners and times, no xattrs, one
/// processor (block order fixed), so two builds of the same folder are byte-identical.
pub const ARGS: &[&str] = &[
    "-comp",
    "zstd",
    "-noappend",
    "-all-root",
    "-no-xattrs",
    "-mkfs-time",
    "0",
    "-all-time",
    "0",
    "-processors",
    "1",
    "-quiet",
    "-no-progress",
];

/// Runs mksquashfs on `dir`, writing `out`, then pads to [`MIN_SIZE`].
pub fn pack(dir: &Path, out: &Path) -> Result<u64, ImageError> {
    if out.exists() {
        std::fs::remove_file(out).map_err(|e| ImageError::io("remove", out, e))?;
    }
    tool::run(Command::new("mksquashfs").arg(dir).arg(out).args(ARGS))?;
    let size = std::fs::metadata(out)
        .map_err(|e| ImageError::io("stat", out, e))?
        .len();
    if size < MIN_SIZE {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(out)
            .map_err(|e| ImageError::io("open", out, e))?;
        file.set_len(MIN_SIZE)
            .map_err(|e| ImageError::io("pad", out, e))?;
        return Ok(MIN_SIZE);
    }
    Ok(size)
}

/// One line of `unsquashfs -lls`: permissions, size and path inside the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub perms: String,
    pub size: u64,
    pub path: String,
}

/// Lists every entry of a SquashFS image with `unsquashfs -lls`.
pub fn list(image: &Path) -> Result<Vec<Listed>, ImageError> {
    let output = tool::run(
        Command::new("unsquashfs")
            .args(["-lls", "-d", "/"])
            .arg(image),
    )?;
    Ok(parse_listing(&String::from_utf8_lossy(&output.stdout)))
}

/// Parses `unsquashfs -lls -d /` output (`-rwxr-xr-x root/root 123 1970-01-01 00:00 /usr/bin/x`).
pub fn parse_listing(text: &str) -> Vec<Listed> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 6 || fields[0].len() != 10 {
                return None;
            }
            let size = fields[2].parse().ok()?;
            // Path is everything after the time field; a symlink shows `path -> target`.
            let path = fields[5..].join(" ");
            let path = path.split(" -> ").next().unwrap_or_default();
            // `-d /` prints `//usr/...`; keep exactly one leading slash.
            let path = format!("/{}", path.trim_start_matches('/'));
            Some(Listed {
                perms: fields[0].to_string(),
                size,
                path,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_lines_parse() {
        let text = "Parallel unsquashfs: Using 1 processor\n3 inodes (2 blocks) to write\n\ndrwxr-xr-x root/root                64 1970-01-01 00:00 /\n-rwxr-xr-x root/root           1234 1970-01-01 00:00 /usr/bin/etcd\nlrwxrwxrwx root/root                44 1970-01-01 00:00 /lib64/ld-linux-x86-64.so.2 -> ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n";
        let listed = parse_listing(text);
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[1].path, "/usr/bin/etcd");
        assert_eq!(listed[1].size, 1234);
        assert_eq!(listed[2].path, "/lib64/ld-linux-x86-64.so.2");
    }
}
