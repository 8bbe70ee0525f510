//! Which disk holds STATE and EPHEMERAL: whole disks from `/sys/class/block`, their partition
//! tables, blank detection and the choice between "found", "create" and "none".

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::gpt::{self, Table};
use super::DiskError;

/// Disks smaller than this are never chosen for creation.
pub const MIN_DISK_BYTES: u64 = 512 << 20;
/// How much of a disk must be zero for it to count as blank.
const BLANK_BYTES: usize = 1 << 20;
/// Name prefixes of block devices that are never system disks.
const SKIPPED: [&str; 6] = ["loop", "ram", "zram", "sr", "dm-", "md"];

/// Where block devices are described (`/sys/class/block`) and where their nodes are (`/dev`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockEnv {
    /// `/sys/class/block` (a fake tree in tests).
    pub sys_block: PathBuf,
    /// `/dev`.
    pub dev: PathBuf,
}

impl BlockEnv {
    /// The real locations under the node root `root`.
    pub fn under(root: &Path) -> Self {
        BlockEnv {
            sys_block: root.join("sys/class/block"),
            dev: root.join("dev"),
        }
    }
}

/// A whole disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskInfo {
    /// Kernel name, e.g. `vda`.
    pub name: String,
    /// Device node, e.g. `/dev/vda`.
    pub device: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Logical block size in bytes.
    pub sector: u64,
}

/// The disk with STATE and EPHEMERAL, and their partition device nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemDisk {
    /// The whole disk.
    pub disk: DiskInfo,
    /// STATE's device node, e.g. `/dev/vda1`.
    pub state: PathBuf,
    /// STATE's size in bytes.
    pub state_bytes: u64,
    /// EPHEMERAL's device node.
    pub ephemeral: PathBuf,
    /// EPHEMERAL's size in bytes.
    pub ephemeral_bytes: u64,
}

/// What to do at boot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// A disk already has both partitions.
    Found(SystemDisk),
    /// This blank disk gets the layout.
    Create(DiskInfo),
    /// Nothing to use (the reason is a console line); STATE and EPHEMERAL go to tmpfs.
    None(String),
}

/// The node of partition `number` of `disk`: `vda` → `vda1`; a name ending in a digit
/// (`loop0`, `nvme0n1`) gets a `p`: `loop0p1`.
pub fn partition_device(disk: &Path, number: u32) -> PathBuf {
    let text = disk.as_os_str().to_string_lossy();
    if text.ends_with(|c: char| c.is_ascii_digit()) {
        PathBuf::from(format!("{text}p{number}"))
    } else {
        PathBuf::from(format!("{text}{number}"))
    }
}

fn read_number(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Size and sector size of the block device `name` (from sysfs).
pub fn disk_info(env: &BlockEnv, name: &str) -> Result<DiskInfo, DiskError> {
    let dir = env.sys_block.join(name);
    let sectors = read_number(&dir.join("size")).ok_or_else(|| DiskError::Sysfs {
        path: dir.join("size"),
    })?;
    let sector = read_number(&dir.join("queue/logical_block_size")).unwrap_or(512);
    Ok(DiskInfo {
        name: name.to_string(),
        device: env.dev.join(name),
        size: sectors.saturating_mul(512),
        sector,
    })
}

/// Whole, writable disks that can hold a system (no loop, ram, zram, sr, dm-, md devices,
/// no partitions, not read-only), sorted by name.
pub fn whole_disks(env: &BlockEnv) -> Result<Vec<DiskInfo>, DiskError> {
    let entries = std::fs::read_dir(&env.sys_block).map_err(|source| DiskError::Io {
        what: "list block devices".into(),
        path: env.sys_block.clone(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !SKIPPED.iter().any(|p| n.starts_with(p)))
        .filter(|n| !env.sys_block.join(n).join("partition").exists())
        .filter(|n| read_number(&env.sys_block.join(n).join("ro")) != Some(1))
        .collect();
    names.sort();
    names.iter().map(|n| disk_info(env, n)).collect()
}

/// Why `device` is not blank, or `None` when it is: no MBR signature, no GPT header, the
/// first MiB all zero (a raw config disk holds YAML at offset 0: never blank).
pub fn not_blank(device: &Path) -> Result<Option<String>, DiskError> {
    let mut head = vec![0u8; BLANK_BYTES];
    let mut f = File::open(device).map_err(|source| DiskError::Io {
        what: "open".into(),
        path: device.to_path_buf(),
        source,
    })?;
    let mut filled = 0;
    while filled < head.len() {
        match f.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(DiskError::Io {
                    what: "read the first MiB of".into(),
                    path: device.to_path_buf(),
                    source,
                })
            }
        }
    }
    let head = &head[..filled];
    if head.len() >= 512 && head[510..512] == [0x55, 0xAA] {
        return Ok(Some(
            "it has an MBR boot signature (0x55AA at byte 510)".into(),
        ));
    }
    if head.windows(8).any(|w| w == gpt::SIGNATURE) {
        return Ok(Some("it has a GPT header (\"EFI PART\")".into()));
    }
    if let Some(at) = head.iter().position(|b| *b != 0) {
        return Ok(Some(format!(
            "its first MiB holds data (byte {at} is not zero)"
        )));
    }
    Ok(None)
}

/// The partition table of `disk`, if any.
pub fn read_table(disk: &DiskInfo) -> Result<Option<Table>, DiskError> {
    let mut f = File::open(&disk.device).map_err(|source| DiskError::Io {
        what: "open".into(),
        path: disk.device.clone(),
        source,
    })?;
    gpt::read(&mut f, disk.sector, disk.size).map_err(|source| DiskError::Gpt {
        device: disk.device.clone(),
        source,
    })
}

/// `disk` as a system disk, when its table names both STATE and EPHEMERAL.
pub fn as_system_disk(disk: &DiskInfo, table: &Table) -> Option<SystemDisk> {
    let state = table.by_name("STATE")?;
    let eph = table.by_name("EPHEMERAL")?;
    Some(SystemDisk {
        disk: disk.clone(),
        state: partition_device(&disk.device, state.number),
        state_bytes: state.size_bytes(disk.sector),
        ephemeral: partition_device(&disk.device, eph.number),
        ephemeral_bytes: eph.size_bytes(disk.sector),
    })
}

/// The `basalt.disk=` value of a kernel command line.
pub fn disk_argument<'a>(mut args: impl Iterator<Item = &'a str>) -> Option<PathBuf> {
    args.find_map(|a| a.strip_prefix("basalt.disk="))
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Decides where STATE and EPHEMERAL live: a disk already holding both; else `explicit`
/// (`basalt.disk=`) if blank (refused otherwise); else the first blank whole disk of at
/// least 512 MiB. Disks that cannot be read are reported through `log` and skipped.
pub fn choose(
    env: &BlockEnv,
    explicit: Option<&Path>,
    log: &mut dyn FnMut(String),
) -> Result<Choice, DiskError> {
    let disks = whole_disks(env)?;
    for disk in &disks {
        match read_table(disk) {
            Ok(Some(table)) => {
                if let Some(found) = as_system_disk(disk, &table) {
                    return Ok(Choice::Found(found));
                }
            }
            Ok(None) => {}
            Err(e) => log(format!("disk {} skipped: {e}", disk.device.display())),
        }
    }
    if let Some(path) = explicit {
        return choose_explicit(env, path);
    }
    for disk in &disks {
        if disk.size < MIN_DISK_BYTES {
            continue;
        }
        match not_blank(&disk.device) {
            Ok(None) => return Ok(Choice::Create(disk.clone())),
            Ok(Some(_)) => {}
            Err(e) => log(format!("disk {} skipped: {e}", disk.device.display())),
        }
    }
    let seen: Vec<String> = disks.iter().map(|d| d.name.clone()).collect();
    Ok(Choice::None(format!(
        "no system disk (no disk has STATE and EPHEMERAL, no blank disk of at least 512 MiB among [{}])",
        seen.join(", ")
    )))
}

fn choose_explicit(env: &BlockEnv, path: &Path) -> Result<Choice, DiskError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| DiskError::Argument {
            value: path.to_path_buf(),
        })?;
    let disk = disk_info(env, &name)?;
    if let Some(table) = read_table(&disk)? {
        if let Some(found) = as_system_disk(&disk, &table) {
            return Ok(Choice::Found(found));
        }
    }
    if disk.size < MIN_DISK_BYTES {
        return Ok(Choice::None(format!(
            "basalt.disk={} refused: it has {} MiB, Basalt needs at least 512 MiB",
            path.display(),
            disk.size >> 20
        )));
    }
    match not_blank(&disk.device)? {
        None => Ok(Choice::Create(disk)),
        Some(why) => Ok(Choice::None(format!(
            "basalt.disk={} refused: {why}; Basalt never overwrites data: wipe its first MiB \
             (and any old partition table) or remove basalt.disk=",
            path.display()
        ))),
    }
}

#[cfg(test)]
#[path = "select_tests.rs"]
mod tests;
