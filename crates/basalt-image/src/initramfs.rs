//! The initramfs: a newc cpio (see [`crate::cpio`]) compressed with `zstd -T1` (single
//! thread, fixed level: reproducible), holding `/init`, the kernel modules with
//! `modules.order`, `/rootfs.sqsh`, `/manifest.json`, `/manifest.sig` and `/dev/console`.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;

use crate::cpio::{self, Entry, Kind};
use crate::error::ImageError;
use crate::kmods::Module;
use crate::tool;

/// zstd level used for the initramfs (most bytes are the already-compressed rootfs).
pub const ZSTD_LEVEL: &str = "-3";

/// What goes into the initramfs.
#[derive(Debug)]
pub struct Contents<'a> {
    pub init: &'a Path,
    pub release: &'a str,
    pub modules: &'a [Module],
    pub rootfs: &'a Path,
    pub manifest_json: &'a [u8],
    pub manifest_sig: &'a [u8],
}

/// `modules.order`: one path per line relative to `/lib/modules/<release>`, in load order.
pub fn modules_order(modules: &[Module]) -> String {
    modules
        .iter()
        .map(|m| format!("{}\n", m.rel_path))
        .collect()
}

/// The archive entries (unsorted; the writer sorts).
pub fn entries(contents: &Contents<'_>) -> Vec<Entry> {
    let dir = |path: &str| Entry {
        path: path.to_string(),
        mode: 0o755,
        kind: Kind::Dir,
    };
    let mut entries = vec![
        dir("dev"),
        dir("proc"),
        dir("sys"),
        dir("newroot"),
        dir("lib"),
        dir("lib/modules"),
        Entry {
            // The kernel opens /dev/console for PID 1's stdio before /init runs.
            path: "dev/console".into(),
            mode: 0o600,
            kind: Kind::CharDev(5, 1),
        },
        Entry {
            path: "init".into(),
            mode: 0o755,
            kind: Kind::File(contents.init.to_path_buf()),
        },
        Entry {
            path: "rootfs.sqsh".into(),
            mode: 0o444,
            kind: Kind::File(contents.rootfs.to_path_buf()),
        },
        Entry {
            path: "manifest.json".into(),
            mode: 0o444,
            kind: Kind::Bytes(contents.manifest_json.to_vec()),
        },
        Entry {
            path: "manifest.sig".into(),
            mode: 0o444,
            kind: Kind::Bytes(contents.manifest_sig.to_vec()),
        },
    ];
    let base = format!("lib/modules/{}", contents.release);
    let mut dirs = std::collections::BTreeSet::new();
    dirs.insert(base.clone());
    for module in contents.modules {
        let mut parent = Path::new(&module.rel_path).parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            dirs.insert(format!("{base}/{}", p.display()));
            parent = p.parent();
        }
        entries.push(Entry {
            path: format!("{base}/{}", module.rel_path),
            mode: 0o644,
            kind: Kind::File(module.source.clone()),
        });
    }
    entries.extend(dirs.iter().map(|d| dir(d)));
    entries.push(Entry {
        path: format!("{base}/modules.order"),
        mode: 0o644,
        kind: Kind::Bytes(modules_order(contents.modules).into_bytes()),
    });
    entries
}

/// Writes the compressed initramfs to `out`; returns its size. `work` holds the raw cpio.
pub fn write(contents: &Contents<'_>, work: &Path, out: &Path) -> Result<u64, ImageError> {
    let raw = work.join("initramfs.cpio");
    let file = std::fs::File::create(&raw).map_err(|e| ImageError::io("create", &raw, e))?;
    let mut writer = BufWriter::new(file);
    cpio::write(entries(contents), &mut writer).map_err(|e| ImageError::io("write", &raw, e))?;
    writer
        .flush()
        .map_err(|e| ImageError::io("write", &raw, e))?;
    drop(writer);
    tool::run(
        Command::new("zstd")
            .args(["-q", "-f", "-T1", ZSTD_LEVEL, "--no-progress"])
            .arg(&raw)
            .arg("-o")
            .arg(out),
    )?;
    std::fs::remove_file(&raw).map_err(|e| ImageError::io("remove", &raw, e))?;
    Ok(std::fs::metadata(out)
        .map_err(|e| ImageError::io("stat", out, e))?
        .len())
}
