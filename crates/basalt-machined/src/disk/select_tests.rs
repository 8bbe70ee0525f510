#![allow(clippy::unwrap_used)]

use std::path::Path;

use super::*;

const MIB: u64 = 1 << 20;

/// A fake `/sys/class/block` + `/dev`: each disk a sparse file of `size` bytes.
struct Tree {
    dir: tempfile::TempDir,
    env: BlockEnv,
}

impl Tree {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let env = BlockEnv {
            sys_block: dir.path().join("sys/class/block"),
            dev: dir.path().join("dev"),
        };
        std::fs::create_dir_all(&env.sys_block).unwrap();
        std::fs::create_dir_all(&env.dev).unwrap();
        Tree { dir, env }
    }

    fn disk(&self, name: &str, size: u64) -> &Self {
        let sys = self.env.sys_block.join(name);
        std::fs::create_dir_all(sys.join("queue")).unwrap();
        std::fs::write(sys.join("size"), format!("{}\n", size / 512)).unwrap();
        std::fs::write(sys.join("queue/logical_block_size"), "512\n").unwrap();
        std::fs::write(sys.join("ro"), "0\n").unwrap();
        let f = std::fs::File::create(self.env.dev.join(name)).unwrap();
        f.set_len(size).unwrap();
        self
    }

    fn mark(&self, name: &str, file: &str, text: &str) {
        std::fs::write(self.env.sys_block.join(name).join(file), text).unwrap();
    }

    fn scribble(&self, name: &str, offset: u64, bytes: &[u8]) {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(self.env.dev.join(name))
            .unwrap();
        f.seek(SeekFrom::Start(offset)).unwrap();
        f.write_all(bytes).unwrap();
    }

    fn partition(&self, name: &str, size: u64) {
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.env.dev.join(name))
            .unwrap();
        gpt::write(&mut f, 512, size, &gpt::system_layout(512, size).unwrap()).unwrap();
    }

    fn choose(&self, explicit: Option<&str>) -> (Choice, Vec<String>) {
        let mut lines = Vec::new();
        let explicit = explicit.map(|e| self.env.dev.join(e));
        let choice = choose(&self.env, explicit.as_deref(), &mut |l| lines.push(l)).unwrap();
        (choice, lines)
    }
}

#[test]
fn partition_device_names() {
    assert_eq!(
        partition_device(Path::new("/dev/vda"), 1),
        Path::new("/dev/vda1")
    );
    assert_eq!(
        partition_device(Path::new("/dev/sdb"), 2),
        Path::new("/dev/sdb2")
    );
    assert_eq!(
        partition_device(Path::new("/dev/loop0"), 1),
        Path::new("/dev/loop0p1")
    );
    assert_eq!(
        partition_device(Path::new("/dev/nvme0n1"), 2),
        Path::new("/dev/nvme0n1p2")
    );
}

#[test]
fn kernel_argument() {
    let args = "console=ttyS0 basalt.disk=/dev/vdb quiet";
    assert_eq!(
        disk_argument(args.split_whitespace()),
        Some("/dev/vdb".into())
    );
    assert_eq!(disk_argument("basalt.disk= x".split_whitespace()), None);
    assert_eq!(disk_argument("quiet".split_whitespace()), None);
}

#[test]
fn whole_disks_skip_virtual_partitions_and_read_only() {
    let t = Tree::new();
    for name in [
        "vdb", "vda", "loop0", "ram0", "zram0", "sr0", "dm-0", "md0", "vda1", "vdc",
    ] {
        t.disk(name, 600 * MIB);
    }
    t.mark("vda1", "partition", "1\n");
    t.mark("vdc", "ro", "1\n");
    let names: Vec<String> = whole_disks(&t.env)
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["vda", "vdb"]);
    let vda = disk_info(&t.env, "vda").unwrap();
    assert_eq!(vda.size, 600 * MIB);
    assert_eq!(vda.sector, 512);
    assert_eq!(vda.device, t.env.dev.join("vda"));
}

#[test]
fn blank_detection() {
    let t = Tree::new();
    t.disk("vda", 2 * MIB)
        .disk("vdb", 2 * MIB)
        .disk("vdc", 2 * MIB)
        .disk("vdd", 2 * MIB);
    t.scribble("vdb", 510, &[0x55, 0xAA]);
    t.scribble("vdc", 4096, b"EFI PART");
    t.scribble("vdd", 0, b"version: v1alpha1\n");
    assert_eq!(not_blank(&t.env.dev.join("vda")).unwrap(), None);
    assert!(not_blank(&t.env.dev.join("vdb"))
        .unwrap()
        .unwrap()
        .contains("MBR"));
    assert!(not_blank(&t.env.dev.join("vdc"))
        .unwrap()
        .unwrap()
        .contains("GPT"));
    assert!(not_blank(&t.env.dev.join("vdd"))
        .unwrap()
        .unwrap()
        .contains("byte 0"));
}

#[test]
fn a_disk_with_both_partitions_is_found_first() {
    let t = Tree::new();
    t.disk("vda", 600 * MIB).disk("vdb", 600 * MIB);
    t.partition("vdb", 600 * MIB);
    let (choice, _) = t.choose(None);
    let Choice::Found(found) = choice else {
        panic!("{choice:?}")
    };
    assert_eq!(found.disk.name, "vdb");
    assert_eq!(found.state, t.env.dev.join("vdb1"));
    assert_eq!(found.ephemeral, t.env.dev.join("vdb2"));
    assert_eq!(found.state_bytes, 100 * MIB);
    assert_eq!(found.ephemeral_bytes, 498 * MIB);
    // found wins over an explicit blank disk, too
    assert!(matches!(t.choose(Some("vda")).0, Choice::Found(_)));
}

#[test]
fn the_first_blank_big_disk_is_created_config_disks_are_skipped() {
    let t = Tree::new();
    t.disk("vda", 600 * MIB)
        .disk("vdb", 100 * MIB)
        .disk("vdc", 600 * MIB);
    t.scribble("vda", 0, b"version: v1alpha1\n"); // a raw config disk
    let (choice, _) = t.choose(None);
    assert!(
        matches!(&choice, Choice::Create(d) if d.name == "vdc"),
        "{choice:?}"
    );
}

#[test]
fn explicit_disk_is_used_or_refused() {
    let t = Tree::new();
    t.disk("vda", 600 * MIB)
        .disk("vdb", 600 * MIB)
        .disk("loop3", 600 * MIB);
    assert!(matches!(t.choose(Some("vdb")).0, Choice::Create(d) if d.name == "vdb"));
    // an explicit loop device is allowed (only the scan skips them)
    assert!(matches!(t.choose(Some("loop3")).0, Choice::Create(d) if d.name == "loop3"));
    t.scribble("vdb", 0, b"data");
    let (choice, _) = t.choose(Some("vdb"));
    let Choice::None(why) = choice else {
        panic!("{choice:?}")
    };
    assert!(why.contains("basalt.disk="), "{why}");
    assert!(why.contains("wipe"), "{why}");
}

#[test]
fn no_disk_at_all() {
    let t = Tree::new();
    t.disk("vda", 100 * MIB);
    let (choice, _) = t.choose(None);
    let Choice::None(why) = choice else {
        panic!("{choice:?}")
    };
    assert!(why.contains("no system disk"), "{why}");
}

#[test]
fn a_corrupt_table_is_reported_and_skipped() {
    let t = Tree::new();
    t.disk("vda", 600 * MIB).disk("vdb", 600 * MIB);
    t.partition("vda", 600 * MIB);
    t.scribble("vda", 512 + 40, &[0xFF]);
    t.scribble("vda", 600 * MIB - 512 + 40, &[0xFF]);
    let (choice, lines) = t.choose(None);
    assert!(
        matches!(&choice, Choice::Create(d) if d.name == "vdb"),
        "{choice:?}"
    );
    assert!(
        lines[0].contains("vda") && lines[0].contains("corrupt"),
        "{lines:?}"
    );
    let _ = &t.dir;
}
