//! First boot: partition a blank disk, wait for its partition nodes, format them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::select::{self, BlockEnv, Choice, DiskInfo, SystemDisk};
use super::{format, gpt, DiskError};
use crate::process::Reaper;
use crate::sys::Syscall;

/// How long partition nodes may take to appear (devtmpfs creates them asynchronously).
pub const PARTITION_WAIT: Duration = Duration::from_secs(5);

/// The outcome of [`prepare`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prepared {
    /// A disk already held STATE and EPHEMERAL.
    Found(SystemDisk),
    /// A blank disk was partitioned and formatted now.
    Created(SystemDisk),
    /// No usable disk: the reason, as a console line.
    None(String),
}

/// Finds the system disk or creates one ([`select::choose`], then [`create`]). Blocking.
pub fn prepare(
    sys: &dyn Syscall,
    reaper: &Reaper,
    env: &BlockEnv,
    mke2fs: &Path,
    explicit: Option<&Path>,
    log: &mut dyn FnMut(String),
) -> Result<Prepared, DiskError> {
    match select::choose(env, explicit, log)? {
        Choice::Found(disk) => Ok(Prepared::Found(disk)),
        Choice::Create(disk) => create(sys, reaper, env, &disk, mke2fs, log).map(Prepared::Created),
        Choice::None(why) => Ok(Prepared::None(why)),
    }
}

fn took(start: Instant) -> String {
    format!("{} ms", start.elapsed().as_millis())
}

/// Writes Basalt's GPT to the blank `disk`, re-reads its partitions, waits for their nodes and
/// formats both as ext4 (labels `STATE`, `EPHEMERAL`); each step is logged with its duration.
/// Partitions the kernel's parser did not register after `BLKRRPART` (a kernel without GPT
/// support) are added with `BLKPG`.
pub fn create(
    sys: &dyn Syscall,
    reaper: &Reaper,
    env: &BlockEnv,
    disk: &DiskInfo,
    mke2fs: &Path,
    log: &mut dyn FnMut(String),
) -> Result<SystemDisk, DiskError> {
    let dev = disk.device.display().to_string();
    let gpt_err = |source| DiskError::Gpt {
        device: disk.device.clone(),
        source,
    };
    let layout = gpt::system_layout(disk.sector, disk.size).map_err(gpt_err)?;
    let bytes = |p: &gpt::NewPartition| (p.last_lba + 1 - p.first_lba) * disk.sector;
    let system = SystemDisk {
        disk: disk.clone(),
        state: select::partition_device(&disk.device, 1),
        state_bytes: bytes(&layout[0]),
        ephemeral: select::partition_device(&disk.device, 2),
        ephemeral_bytes: bytes(&layout[1]),
    };
    log(format!(
        "disk {dev}: blank, creating STATE ({} MiB) and EPHEMERAL ({} MiB)",
        system.state_bytes >> 20,
        system.ephemeral_bytes >> 20
    ));
    let start = Instant::now();
    let io = |what: &str| {
        let what = what.to_string();
        let path = disk.device.clone();
        move |source| DiskError::Io { what, path, source }
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&disk.device)
        .map_err(io("open for writing"))?;
    gpt::write(&mut file, disk.sector, disk.size, &layout).map_err(gpt_err)?;
    file.sync_all().map_err(io("sync"))?;
    drop(file);
    log(format!(
        "disk {dev}: partition table written in {}",
        took(start)
    ));
    let start = Instant::now();
    sys.reread_partitions(&disk.device)?;
    let nodes = [system.state.clone(), system.ephemeral.clone()];
    for ((number, node), part) in (1u32..).zip(&nodes).zip(&layout) {
        let name = node.file_name().unwrap_or_default();
        if !env.sys_block.join(name).exists() {
            let start = part.first_lba * disk.sector;
            sys.add_partition(&disk.device, number, start, bytes(part))?;
        }
    }
    wait_for_devices(&disk.device, &nodes, PARTITION_WAIT)?;
    log(format!(
        "disk {dev}: partitions appeared in {}",
        took(start)
    ));
    for (device, label) in [(&system.state, "STATE"), (&system.ephemeral, "EPHEMERAL")] {
        let start = Instant::now();
        format::mke2fs(reaper, mke2fs, device, label)?;
        log(format!(
            "disk {dev}: formatted {} as ext4 ({label}) in {}",
            device.display(),
            took(start)
        ));
    }
    Ok(system)
}

/// Polls until every one of `devices` exists, at most `timeout`.
pub fn wait_for_devices(
    disk: &Path,
    devices: &[PathBuf],
    timeout: Duration,
) -> Result<(), DiskError> {
    let deadline = Instant::now() + timeout;
    loop {
        let missing: Vec<String> = devices
            .iter()
            .filter(|d| !d.exists())
            .map(|d| d.display().to_string())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(DiskError::NoPartitionNodes {
                disk: disk.to_path_buf(),
                devices: missing.join(", "),
                seconds: timeout.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
