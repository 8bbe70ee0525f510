//! Reading and writing a GUID partition table (UEFI spec §5): protective MBR in LBA 0, the
//! primary header in LBA 1 followed by 128 entries of 128 bytes, the backup entries and header
//! at the end of the disk; header and entry array each protected by a CRC-32.

use std::io::{Read, Seek, SeekFrom, Write};

use super::crc32::crc32;
use super::guid::Guid;

/// The header signature.
pub const SIGNATURE: &[u8; 8] = b"EFI PART";
const REVISION: u32 = 0x0001_0000;
const HEADER_SIZE: u32 = 92;
const ENTRIES: u32 = 128;
const ENTRY_SIZE: u32 = 128;
const ENTRY_ARRAY_BYTES: u64 = ENTRIES as u64 * ENTRY_SIZE as u64;
/// Partitions start and end on 1 MiB boundaries.
pub const ALIGN_BYTES: u64 = 1 << 20;
/// Size of the STATE partition.
pub const STATE_BYTES: u64 = 100 << 20;

/// A GPT problem (the caller adds the device).
#[derive(Debug, thiserror::Error)]
pub enum GptError {
    /// Reading or writing failed.
    #[error("cannot {what}: {source}")]
    Io {
        /// e.g. `read the primary header at LBA 1`.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Both headers exist but neither is valid.
    #[error("the partition table is corrupt (primary: {primary}; backup: {backup}); wipe the disk to let Basalt recreate it")]
    Corrupt {
        /// Why the primary copy was refused.
        primary: String,
        /// Why the backup copy was refused.
        backup: String,
    },
    /// The disk cannot hold the layout.
    #[error("the disk has {size} bytes; the layout needs at least {needed}")]
    TooSmall {
        /// Disk size in bytes.
        size: u64,
        /// Bytes needed.
        needed: u64,
    },
    /// A sector size GPT cannot use.
    #[error("unsupported logical block size {0} (expected 512 or 4096)")]
    SectorSize(u64),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> GptError {
    let what = what.into();
    move |source| GptError::Io { what, source }
}

/// One partition (number counts from 1, in entry order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// 1-based partition number.
    pub number: u32,
    /// Partition type.
    pub type_guid: Guid,
    /// Unique partition GUID.
    pub unique_guid: Guid,
    /// First sector.
    pub first_lba: u64,
    /// Last sector (inclusive).
    pub last_lba: u64,
    /// The partition name (GPT label), e.g. `STATE`.
    pub name: String,
}

impl Partition {
    /// Size in bytes with `sector`-byte sectors.
    pub fn size_bytes(&self, sector: u64) -> u64 {
        (self.last_lba.saturating_sub(self.first_lba) + 1).saturating_mul(sector)
    }
}

/// Which header copy a table was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderCopy {
    /// LBA 1.
    Primary,
    /// The last LBA (the primary was invalid).
    Backup,
}

/// A partition table read from a disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// Disk GUID.
    pub disk_guid: Guid,
    /// Used entries.
    pub partitions: Vec<Partition>,
    /// Where it was read from.
    pub copy: HeaderCopy,
}

impl Table {
    /// The partition named `name`.
    pub fn by_name(&self, name: &str) -> Option<&Partition> {
        self.partitions.iter().find(|p| p.name == name)
    }
}

fn check_sector(sector: u64) -> Result<(), GptError> {
    if sector == 512 || sector == 4096 {
        Ok(())
    } else {
        Err(GptError::SectorSize(sector))
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

fn guid_at(b: &[u8], at: usize) -> Guid {
    let mut g = [0u8; 16];
    g.copy_from_slice(&b[at..at + 16]);
    Guid(g)
}

fn read_at(
    disk: &mut (impl Read + Seek),
    offset: u64,
    len: u64,
    what: &str,
) -> Result<Vec<u8>, GptError> {
    disk.seek(SeekFrom::Start(offset)).map_err(io(what))?;
    let mut buf = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX).min(1 << 24)];
    disk.read_exact(&mut buf).map_err(io(what))?;
    Ok(buf)
}

/// Outcome of checking one header copy.
enum Header {
    Absent,
    Invalid(String),
    Valid(Table),
}

fn read_header(
    disk: &mut (impl Read + Seek),
    sector: u64,
    lba: u64,
    copy: HeaderCopy,
) -> Result<Header, GptError> {
    let which = match copy {
        HeaderCopy::Primary => "primary",
        HeaderCopy::Backup => "backup",
    };
    let h = read_at(
        disk,
        lba * sector,
        sector,
        &format!("read the {which} GPT header at LBA {lba}"),
    )?;
    if &h[0..8] != SIGNATURE {
        return Ok(Header::Absent);
    }
    let size = u32_at(&h, 12);
    if size < HEADER_SIZE || u64::from(size) > sector {
        return Ok(Header::Invalid(format!("header size {size}")));
    }
    let mut copy_of = h[..size as usize].to_vec();
    copy_of[16..20].fill(0);
    let stored = u32_at(&h, 16);
    if crc32(&copy_of) != stored {
        return Ok(Header::Invalid("header CRC mismatch".into()));
    }
    if u64_at(&h, 24) != lba {
        return Ok(Header::Invalid(format!(
            "header says it lives at LBA {}",
            u64_at(&h, 24)
        )));
    }
    let entries_lba = u64_at(&h, 72);
    let count = u32_at(&h, 80);
    let entry_size = u32_at(&h, 84);
    if !(1..=1024).contains(&count) || !(128..=1024).contains(&entry_size) || entry_size % 8 != 0 {
        return Ok(Header::Invalid(format!(
            "{count} entries of {entry_size} bytes"
        )));
    }
    let array = read_at(
        disk,
        entries_lba.saturating_mul(sector),
        u64::from(count) * u64::from(entry_size),
        &format!("read the {which} GPT entries at LBA {entries_lba}"),
    )?;
    if crc32(&array) != u32_at(&h, 88) {
        return Ok(Header::Invalid("partition entries CRC mismatch".into()));
    }
    let mut partitions = Vec::new();
    for (i, e) in array.chunks_exact(entry_size as usize).enumerate() {
        let type_guid = guid_at(e, 0);
        if type_guid == Guid::NIL {
            continue;
        }
        let units: Vec<u16> = e[56..128]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|u| *u != 0)
            .collect();
        partitions.push(Partition {
            number: u32::try_from(i + 1).unwrap_or(u32::MAX),
            type_guid,
            unique_guid: guid_at(e, 16),
            first_lba: u64_at(e, 32),
            last_lba: u64_at(e, 40),
            name: String::from_utf16_lossy(&units),
        });
    }
    Ok(Header::Valid(Table {
        disk_guid: guid_at(&h, 56),
        partitions,
        copy,
    }))
}

/// Reads the partition table of a disk of `size` bytes with `sector`-byte sectors: the
/// primary copy, else the backup. `Ok(None)`: no GPT at all.
pub fn read(
    disk: &mut (impl Read + Seek),
    sector: u64,
    size: u64,
) -> Result<Option<Table>, GptError> {
    check_sector(sector)?;
    let lbas = size / sector;
    if lbas < 3 {
        return Ok(None);
    }
    let primary = read_header(disk, sector, 1, HeaderCopy::Primary)?;
    if let Header::Valid(t) = primary {
        return Ok(Some(t));
    }
    let backup = read_header(disk, sector, lbas - 1, HeaderCopy::Backup)?;
    match (primary, backup) {
        (_, Header::Valid(t)) => Ok(Some(t)),
        (Header::Absent, Header::Absent) => Ok(None),
        (p, b) => {
            let why = |h: Header| match h {
                Header::Absent => "absent".to_string(),
                Header::Invalid(w) => w,
                Header::Valid(_) => "valid".to_string(),
            };
            Err(GptError::Corrupt {
                primary: why(p),
                backup: why(b),
            })
        }
    }
}

/// A partition to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPartition {
    /// GPT label.
    pub name: String,
    /// First sector.
    pub first_lba: u64,
    /// Last sector (inclusive).
    pub last_lba: u64,
}

/// Basalt's layout on a disk of `size` bytes: `STATE` (100 MiB) then `EPHEMERAL` (the rest),
/// both starting and ending on 1 MiB boundaries.
pub fn system_layout(sector: u64, size: u64) -> Result<Vec<NewPartition>, GptError> {
    check_sector(sector)?;
    let align = ALIGN_BYTES / sector;
    let entry_lbas = ENTRY_ARRAY_BYTES / sector;
    let lbas = size / sector;
    let needed = 2 * ALIGN_BYTES + STATE_BYTES + ALIGN_BYTES;
    let last_usable = lbas.checked_sub(2 + entry_lbas).filter(|_| size >= needed);
    let Some(last_usable) = last_usable else {
        return Err(GptError::TooSmall { size, needed });
    };
    let state_first = align;
    let state_last = state_first + STATE_BYTES / sector - 1;
    let eph_first = state_last + 1;
    let eph_last = ((last_usable + 1) / align) * align - 1;
    if eph_last < eph_first + align - 1 {
        return Err(GptError::TooSmall { size, needed });
    }
    Ok(vec![
        NewPartition {
            name: "STATE".into(),
            first_lba: state_first,
            last_lba: state_last,
        },
        NewPartition {
            name: "EPHEMERAL".into(),
            first_lba: eph_first,
            last_lba: eph_last,
        },
    ])
}

fn entry_array(parts: &[NewPartition]) -> std::io::Result<Vec<u8>> {
    let mut array = vec![0u8; ENTRY_ARRAY_BYTES as usize];
    for (p, e) in parts
        .iter()
        .zip(array.chunks_exact_mut(ENTRY_SIZE as usize))
    {
        e[0..16].copy_from_slice(&Guid::LINUX_FILESYSTEM.0);
        e[16..32].copy_from_slice(&Guid::random()?.0);
        e[32..40].copy_from_slice(&p.first_lba.to_le_bytes());
        e[40..48].copy_from_slice(&p.last_lba.to_le_bytes());
        for (i, unit) in p.name.encode_utf16().take(36).enumerate() {
            e[56 + 2 * i..58 + 2 * i].copy_from_slice(&unit.to_le_bytes());
        }
    }
    Ok(array)
}

#[allow(clippy::too_many_arguments)]
fn header(
    sector: u64,
    my_lba: u64,
    alt_lba: u64,
    first_usable: u64,
    last_usable: u64,
    disk_guid: Guid,
    entries_lba: u64,
    entries_crc: u32,
) -> Vec<u8> {
    let mut h = vec![0u8; sector as usize];
    h[0..8].copy_from_slice(SIGNATURE);
    h[8..12].copy_from_slice(&REVISION.to_le_bytes());
    h[12..16].copy_from_slice(&HEADER_SIZE.to_le_bytes());
    h[24..32].copy_from_slice(&my_lba.to_le_bytes());
    h[32..40].copy_from_slice(&alt_lba.to_le_bytes());
    h[40..48].copy_from_slice(&first_usable.to_le_bytes());
    h[48..56].copy_from_slice(&last_usable.to_le_bytes());
    h[56..72].copy_from_slice(&disk_guid.0);
    h[72..80].copy_from_slice(&entries_lba.to_le_bytes());
    h[80..84].copy_from_slice(&ENTRIES.to_le_bytes());
    h[84..88].copy_from_slice(&ENTRY_SIZE.to_le_bytes());
    h[88..92].copy_from_slice(&entries_crc.to_le_bytes());
    let crc = crc32(&h[..HEADER_SIZE as usize]);
    h[16..20].copy_from_slice(&crc.to_le_bytes());
    h
}

fn protective_mbr(lbas: u64) -> [u8; 512] {
    let mut m = [0u8; 512];
    let size = u32::try_from(lbas - 1).unwrap_or(u32::MAX);
    let entry = &mut m[446..462];
    entry[1..4].copy_from_slice(&[0x00, 0x02, 0x00]);
    entry[4] = 0xEE;
    entry[5..8].copy_from_slice(&[0xFF, 0xFF, 0xFF]);
    entry[8..12].copy_from_slice(&1u32.to_le_bytes());
    entry[12..16].copy_from_slice(&size.to_le_bytes());
    m[510] = 0x55;
    m[511] = 0xAA;
    m
}

fn write_at(
    disk: &mut (impl Write + Seek),
    offset: u64,
    data: &[u8],
    what: &str,
) -> Result<(), GptError> {
    disk.seek(SeekFrom::Start(offset)).map_err(io(what))?;
    disk.write_all(data).map_err(io(what))
}

/// Writes a protective MBR and both GPT copies holding `parts` (type Linux filesystem,
/// random unique GUIDs) to a disk of `size` bytes; the caller syncs.
pub fn write(
    disk: &mut (impl Write + Seek),
    sector: u64,
    size: u64,
    parts: &[NewPartition],
) -> Result<Guid, GptError> {
    check_sector(sector)?;
    let lbas = size / sector;
    let entry_lbas = ENTRY_ARRAY_BYTES / sector;
    let needed = (3 + 2 * entry_lbas) * sector;
    if lbas * sector < needed {
        return Err(GptError::TooSmall { size, needed });
    }
    let last = lbas - 1;
    let first_usable = 2 + entry_lbas;
    let last_usable = last - entry_lbas - 1;
    let array = entry_array(parts).map_err(io("read random GUIDs from /dev/urandom"))?;
    let entries_crc = crc32(&array);
    let disk_guid = Guid::random().map_err(io("read random GUIDs from /dev/urandom"))?;
    let backup_entries = last - entry_lbas;
    let primary = header(
        sector,
        1,
        last,
        first_usable,
        last_usable,
        disk_guid,
        2,
        entries_crc,
    );
    let backup = header(
        sector,
        last,
        1,
        first_usable,
        last_usable,
        disk_guid,
        backup_entries,
        entries_crc,
    );
    let mut lba0 = vec![0u8; sector as usize];
    lba0[..512].copy_from_slice(&protective_mbr(lbas));
    write_at(disk, 0, &lba0, "write the protective MBR")?;
    write_at(disk, sector, &primary, "write the primary GPT header")?;
    write_at(disk, 2 * sector, &array, "write the primary GPT entries")?;
    write_at(
        disk,
        backup_entries * sector,
        &array,
        "write the backup GPT entries",
    )?;
    write_at(disk, last * sector, &backup, "write the backup GPT header")?;
    disk.flush().map_err(io("flush the partition table"))?;
    Ok(disk_guid)
}

#[cfg(test)]
#[path = "gpt_tests.rs"]
mod tests;
