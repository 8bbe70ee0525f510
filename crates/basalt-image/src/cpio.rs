//! A minimal, deterministic writer for the "newc" cpio format the kernel unpacks as initramfs:
//! mtime 0, uid/gid 0, inode numbers 1, 2, 3… in entry order, entries sorted by path.

use std::io::{self, Read, Write};
use std::path::PathBuf;

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A directory.
    Dir,
    /// A regular file whose content is read from `PathBuf` on the host when writing.
    File(PathBuf),
    /// A regular file with inline content.
    Bytes(Vec<u8>),
    /// A character device (major, minor).
    CharDev(u32, u32),
}

/// One archive entry: path without a leading `/`, permission bits, kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub mode: u32,
    pub kind: Kind,
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFCHR: u32 = 0o020000;

/// Writes `entries` (sorted by path first) and the trailer to `out`.
pub fn write<W: Write>(mut entries: Vec<Entry>, out: &mut W) -> io::Result<u64> {
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let mut written = 0u64;
    for (index, entry) in entries.iter().enumerate() {
        let ino = index as u32 + 1;
        written += match &entry.kind {
            Kind::Dir => header(out, ino, S_IFDIR | entry.mode, 2, 0, (0, 0), &entry.path)?,
            Kind::CharDev(major, minor) => header(
                out,
                ino,
                S_IFCHR | entry.mode,
                1,
                0,
                (*major, *minor),
                &entry.path,
            )?,
            Kind::Bytes(data) => {
                let n = header(
                    out,
                    ino,
                    S_IFREG | entry.mode,
                    1,
                    data.len() as u64,
                    (0, 0),
                    &entry.path,
                )?;
                out.write_all(data)?;
                n + data.len() as u64 + pad(out, data.len() as u64)?
            }
            Kind::File(source) => {
                let mut file = std::fs::File::open(source)?;
                let size = file.metadata()?.len();
                let n = header(out, ino, S_IFREG | entry.mode, 1, size, (0, 0), &entry.path)?;
                let copied = io::copy(&mut (&mut file).take(size), out)?;
                if copied != size {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("{} changed size while archiving", source.display()),
                    ));
                }
                n + size + pad(out, size)?
            }
        };
    }
    written += header(out, 0, 0, 1, 0, (0, 0), "TRAILER!!!")?;
    Ok(written)
}

fn header<W: Write>(
    out: &mut W,
    ino: u32,
    mode: u32,
    nlink: u32,
    size: u64,
    rdev: (u32, u32),
    name: &str,
) -> io::Result<u64> {
    let size32 = u32::try_from(size).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name}: newc cpio holds files below 4 GiB"),
        )
    })?;
    let namesize = name.len() as u32 + 1;
    // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
    let text = format!(
        "070701{ino:08x}{mode:08x}{:08x}{:08x}{nlink:08x}{:08x}{size32:08x}{:08x}{:08x}{:08x}{:08x}{namesize:08x}{:08x}",
        0, 0, 0, 0, 0, rdev.0, rdev.1, 0
    );
    out.write_all(text.as_bytes())?;
    out.write_all(name.as_bytes())?;
    out.write_all(&[0])?;
    let len = text.len() as u64 + namesize as u64;
    Ok(len + pad(out, len)?)
}

fn pad<W: Write>(out: &mut W, len: u64) -> io::Result<u64> {
    let extra = (4 - len % 4) % 4;
    out.write_all(&[0u8; 3][..extra as usize])?;
    Ok(extra)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn layout_is_aligned_sorted_and_deterministic() {
        let entries = vec![
            Entry {
                path: "init".into(),
                mode: 0o755,
                kind: Kind::Bytes(b"hello".to_vec()),
            },
            Entry {
                path: "dev".into(),
                mode: 0o755,
                kind: Kind::Dir,
            },
            Entry {
                path: "dev/console".into(),
                mode: 0o600,
                kind: Kind::CharDev(5, 1),
            },
        ];
        let mut a = Vec::new();
        let n = write(entries.clone(), &mut a).unwrap();
        assert_eq!(n as usize, a.len());
        assert_eq!(a.len() % 4, 0);
        let mut reversed = entries;
        reversed.reverse();
        let mut b = Vec::new();
        write(reversed, &mut b).unwrap();
        assert_eq!(a, b);
        // First entry is "dev" (sorted), inode 1, directory mode.
        assert_eq!(&a[..6], b"070701");
        assert_eq!(&a[6..14], b"00000001");
        assert_eq!(&a[14..22], b"000041ed");
        let text = String::from_utf8_lossy(&a);
        assert!(text.contains("dev/console"));
        assert!(text.contains("TRAILER!!!"));
        assert!(text.find("dev/console") < text.find("init"));
    }
}
