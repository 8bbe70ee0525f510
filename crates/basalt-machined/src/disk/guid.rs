//! GUIDs as GPT stores them: the first three fields little-endian, the rest as written.

use std::fmt;
use std::io::Read as _;

/// A GUID in GPT's on-disk byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// The "Linux filesystem data" partition type, `0FC63DAF-8483-4772-8E79-3D69D8477DE4`.
    pub const LINUX_FILESYSTEM: Guid = Guid([
        0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47, 0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D,
        0xE4,
    ]);

    /// The all-zero GUID (an unused partition entry).
    pub const NIL: Guid = Guid([0; 16]);

    /// A random (version 4) GUID from `/dev/urandom`.
    pub fn random() -> std::io::Result<Guid> {
        let mut b = [0u8; 16];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
        // version 4 sits in the high nibble of the third field (little-endian: byte 7)
        b[7] = (b[7] & 0x0F) | 0x40;
        b[8] = (b[8] & 0x3F) | 0x80;
        Ok(Guid(b))
    }

    /// Parses the text form `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`.
    pub fn parse(text: &str) -> Option<Guid> {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 || text.len() != 36 {
            return None;
        }
        let mut be = [0u8; 16];
        for (i, byte) in be.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        let mut b = be;
        b[0..4].reverse();
        b[4..6].reverse();
        b[6..8].reverse();
        Some(Guid(b))
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-",
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9]
        )?;
        for x in &b[10..] {
            write!(f, "{x:02X}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::Guid;

    #[test]
    fn text_round_trip() {
        let text = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
        assert_eq!(Guid::parse(text).unwrap(), Guid::LINUX_FILESYSTEM);
        assert_eq!(Guid::LINUX_FILESYSTEM.to_string(), text);
        assert_eq!(Guid::parse("not-a-guid"), None);
    }

    #[test]
    fn random_is_version_4_and_unique() {
        let a = Guid::random().unwrap();
        let b = Guid::random().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.to_string().as_bytes()[14], b'4');
    }
}
