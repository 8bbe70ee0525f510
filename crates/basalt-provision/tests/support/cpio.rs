//! A minimal newc ("070701") cpio writer, enough for an uncompressed initramfs.

/// One archive member.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A directory (mode 0755).
    Dir(&'static str),
    /// A regular file with its permission bits.
    File(&'static str, u32, Vec<u8>),
    /// A character device (mode 0600) with major and minor numbers.
    CharDev(&'static str, u32, u32),
}

/// The archive bytes, ending with the `TRAILER!!!` member.
pub fn newc(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let ino = u32::try_from(i).unwrap() + 1;
        match entry {
            Entry::Dir(name) => member(&mut out, ino, name, 0o040_755, (0, 0), &[]),
            Entry::File(name, perm, data) => {
                member(&mut out, ino, name, 0o100_000 | perm, (0, 0), data)
            }
            Entry::CharDev(name, major, minor) => {
                member(&mut out, ino, name, 0o020_600, (*major, *minor), &[])
            }
        }
    }
    member(&mut out, 0, "TRAILER!!!", 0, (0, 0), &[]);
    out
}

fn member(out: &mut Vec<u8>, ino: u32, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
    let namesize = u32::try_from(name.len() + 1).unwrap();
    let filesize = u32::try_from(data.len()).unwrap();
    let nlink = if mode & 0o170_000 == 0o040_000 { 2 } else { 1 };
    let fields = [
        ino, mode, 0, 0, nlink, 0, filesize, 0, 0, rdev.0, rdev.1, namesize, 0,
    ];
    out.extend_from_slice(b"070701");
    for field in fields {
        out.extend_from_slice(format!("{field:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while out.len() % 4 != 0 {
        out.push(0);
    }
}
