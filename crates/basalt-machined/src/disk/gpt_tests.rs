#![allow(clippy::unwrap_used)]

use std::io::{Seek, SeekFrom, Write};

use super::*;

const MIB: u64 = 1 << 20;

fn disk(size: u64) -> std::fs::File {
    let f = tempfile::tempfile().unwrap();
    f.set_len(size).unwrap();
    f
}

fn flip(f: &mut std::fs::File, offset: u64) {
    let mut b = [0u8; 1];
    f.seek(SeekFrom::Start(offset)).unwrap();
    std::io::Read::read_exact(f, &mut b).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(&[b[0] ^ 0x5A]).unwrap();
}

#[test]
fn layout_is_aligned_state_then_ephemeral() {
    let parts = system_layout(512, 600 * MIB).unwrap();
    assert_eq!(parts[0].name, "STATE");
    assert_eq!(parts[0].first_lba, 2048);
    assert_eq!(
        (parts[0].last_lba + 1 - parts[0].first_lba) * 512,
        STATE_BYTES
    );
    assert_eq!(parts[1].name, "EPHEMERAL");
    assert_eq!(parts[1].first_lba, 101 * 2048);
    assert_eq!((parts[1].last_lba + 1) % 2048, 0);
    assert_eq!((parts[1].last_lba + 1) * 512, 599 * MIB);
    let four_k = system_layout(4096, 600 * MIB).unwrap();
    assert_eq!(four_k[0].first_lba, 256);
    assert!(matches!(
        system_layout(512, 100 * MIB),
        Err(GptError::TooSmall { .. })
    ));
    assert!(matches!(
        system_layout(1000, 600 * MIB),
        Err(GptError::SectorSize(1000))
    ));
}

#[test]
fn write_then_read_round_trip() {
    for sector in [512, 4096] {
        let size = 600 * MIB;
        let mut f = disk(size);
        let parts = system_layout(sector, size).unwrap();
        let guid = write(&mut f, sector, size, &parts).unwrap();
        let table = read(&mut f, sector, size).unwrap().unwrap();
        assert_eq!(table.copy, HeaderCopy::Primary);
        assert_eq!(table.disk_guid, guid);
        assert_eq!(table.partitions.len(), 2);
        let state = table.by_name("STATE").unwrap();
        assert_eq!(state.number, 1);
        assert_eq!(state.type_guid, Guid::LINUX_FILESYSTEM);
        assert_eq!(state.size_bytes(sector), STATE_BYTES);
        let eph = table.by_name("EPHEMERAL").unwrap();
        assert_eq!(eph.number, 2);
        assert_ne!(eph.unique_guid, state.unique_guid);
        assert_eq!(eph.first_lba, parts[1].first_lba);
        assert_eq!(eph.last_lba, parts[1].last_lba);
    }
}

#[test]
fn protective_mbr_is_written() {
    let size = 600 * MIB;
    let mut f = disk(size);
    write(&mut f, 512, size, &system_layout(512, size).unwrap()).unwrap();
    let mbr = read_at(&mut f, 0, 512, "mbr").unwrap();
    assert_eq!(&mbr[510..], &[0x55, 0xAA]);
    assert_eq!(mbr[446 + 4], 0xEE);
    assert_eq!(
        u32_at(&mbr, 446 + 12),
        u32::try_from(size / 512 - 1).unwrap()
    );
}

#[test]
fn corrupt_primary_falls_back_to_backup() {
    let size = 600 * MIB;
    let mut f = disk(size);
    write(&mut f, 512, size, &system_layout(512, size).unwrap()).unwrap();
    flip(&mut f, 512 + 40); // inside the primary header (first usable LBA)
    let table = read(&mut f, 512, size).unwrap().unwrap();
    assert_eq!(table.copy, HeaderCopy::Backup);
    assert!(table.by_name("STATE").is_some());
}

#[test]
fn corrupt_entries_fall_back_then_refuse() {
    let size = 600 * MIB;
    let mut f = disk(size);
    write(&mut f, 512, size, &system_layout(512, size).unwrap()).unwrap();
    flip(&mut f, 2 * 512 + 60); // a name byte in the primary entry array
    assert_eq!(
        read(&mut f, 512, size).unwrap().unwrap().copy,
        HeaderCopy::Backup
    );
    flip(&mut f, size - 512 + 8); // the backup header's revision
    let err = read(&mut f, 512, size).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("primary: partition entries CRC mismatch"),
        "{text}"
    );
    assert!(text.contains("backup: header CRC mismatch"), "{text}");
    assert!(text.contains("wipe the disk"), "{text}");
}

#[test]
fn blank_disk_has_no_table() {
    let mut f = disk(600 * MIB);
    assert_eq!(read(&mut f, 512, 600 * MIB).unwrap(), None);
}
