//! STATE and EPHEMERAL on a real loop device (root): the first boot's create path (GPT,
//! BLKRRPART, the host's real `mke2fs`), a second boot that finds them, mounting, a file that
//! survives a remount, unmounting; `blkid` and `sfdisk --dump` must agree on the labels.
//!
//! Needs util-linux (`losetup`: package mount, `blkid`), fdisk (`sfdisk`) and e2fsprogs
//! (`mke2fs`); a missing one fails the test naming its package.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use basalt_machined::disk::{self, BlockEnv, Prepared, Volume, VolumeMount, VolumeOrigin};
use basalt_machined::platform::Paths;
use basalt_machined::process::Reaper;
use basalt_machined::sys::RealSyscall;

const MIB: u64 = 1 << 20;

/// Runs a command through machined's reaper (it owns every `wait` in this process);
/// returns its stdout, panicking with its stderr on failure.
fn run(reaper: &Reaper, program: &str, args: &[&str]) -> String {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (mut child, exit) = reaper
        .spawn(&mut cmd)
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    drop(child);
    let status = exit.blocking_recv().unwrap();
    assert!(status.success(), "{program} {args:?}: {status}: {err}");
    out
}

fn require(program: &str, package: &str) {
    let found = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .any(|dir| Path::new(dir).join(program).exists());
    assert!(
        found,
        "{program} is missing: install the Debian package {package} (apt-get install {package})"
    );
}

/// A loop device over a sparse file, detached on drop.
struct Loop {
    reaper: Reaper,
    device: PathBuf,
    _file: tempfile::NamedTempFile,
}

impl Loop {
    fn new(reaper: &Reaper, size: u64) -> Self {
        let file = tempfile::NamedTempFile::new().unwrap();
        file.as_file().set_len(size).unwrap();
        let path = file.path().to_str().unwrap().to_string();
        let out = run(reaper, "losetup", &["-fP", "--show", &path]);
        Loop {
            reaper: reaper.clone(),
            device: PathBuf::from(out.trim()),
            _file: file,
        }
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let mut cmd = Command::new("losetup");
        cmd.arg("-d").arg(&self.device);
        if let Ok((child, exit)) = self.reaper.spawn(&mut cmd) {
            drop(child);
            let _ = exit.blocking_recv();
        }
    }
}

fn prepare(reaper: &Reaper, device: &Path, lines: &mut Vec<String>) -> Prepared {
    disk::prepare(
        &RealSyscall,
        reaper,
        &BlockEnv::under(Path::new("/")),
        Path::new(disk::MKE2FS),
        Some(device),
        &mut |l| lines.push(l),
    )
    .unwrap()
}

#[test]
fn create_find_mount_on_a_loop_device() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root (loop devices, mount)"
    );
    require("losetup", "mount");
    require("blkid", "util-linux");
    require("sfdisk", "fdisk");
    require("mke2fs", "e2fsprogs");
    let reaper = Reaper::start().unwrap();
    let lo = Loop::new(&reaper, 600 * MIB);

    // first boot: blank → created
    let mut lines = Vec::new();
    let Prepared::Created(created) = prepare(&reaper, &lo.device, &mut lines) else {
        panic!("expected Created, console: {lines:?}");
    };
    assert_eq!(created.disk.device, lo.device);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("partition table written in")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("formatted") && l.contains("(EPHEMERAL)")),
        "{lines:?}"
    );
    let dev = lo.device.display().to_string();
    assert_eq!(created.state, PathBuf::from(format!("{dev}p1")));
    assert_eq!(created.ephemeral, PathBuf::from(format!("{dev}p2")));

    // second boot: found, not recreated
    let mut lines = Vec::new();
    let Prepared::Found(found) = prepare(&reaper, &lo.device, &mut lines) else {
        panic!("expected Found, console: {lines:?}");
    };
    assert_eq!(found, created);
    // (host disks this test may not open are reported and skipped; ours is not touched again)
    assert!(!lines.iter().any(|l| l.contains(&dev)), "{lines:?}");

    // mount both under a temporary root, write to STATE, unmount, mount again
    let root = tempfile::tempdir().unwrap();
    let paths = Paths::under(root.path());
    let part = |device: &Path, size_bytes| VolumeMount {
        device: device.to_path_buf(),
        size_bytes,
        origin: VolumeOrigin::Found,
    };
    let state = part(&found.state, found.state_bytes);
    let eph = part(&found.ephemeral, found.ephemeral_bytes);
    let mut log = Vec::new();
    let s = disk::mount_volume(
        &RealSyscall,
        &paths,
        Volume::State,
        Some(&state),
        &mut |l| log.push(l),
    )
    .unwrap();
    assert_eq!(
        (s.filesystem.as_str(), s.mounted),
        ("ext4", true),
        "{log:?}"
    );
    let e = disk::mount_volume(
        &RealSyscall,
        &paths,
        Volume::Ephemeral,
        Some(&eph),
        &mut |l| log.push(l),
    )
    .unwrap();
    assert_eq!(e.filesystem, "ext4", "{log:?}");
    std::fs::write(paths.state().join("config.yaml"), "kept\n").unwrap();
    std::fs::create_dir_all(paths.ephemeral().join("log")).unwrap();
    disk::unmount_volume(&RealSyscall, &paths, Volume::Ephemeral).unwrap();
    disk::unmount_volume(&RealSyscall, &paths, Volume::State).unwrap();
    assert!(!paths.state().join("config.yaml").exists());
    disk::mount_volume(
        &RealSyscall,
        &paths,
        Volume::State,
        Some(&state),
        &mut |l| log.push(l),
    )
    .unwrap();
    let kept = std::fs::read_to_string(paths.state().join("config.yaml"));
    disk::unmount_volume(&RealSyscall, &paths, Volume::State).unwrap();
    assert_eq!(kept.unwrap(), "kept\n");

    // the host's tools agree
    let state_dev = found.state.display().to_string();
    let eph_dev = found.ephemeral.display().to_string();
    assert_eq!(
        run(
            &reaper,
            "blkid",
            &["-o", "value", "-s", "LABEL", &state_dev]
        )
        .trim(),
        "STATE"
    );
    assert_eq!(
        run(&reaper, "blkid", &["-o", "value", "-s", "TYPE", &eph_dev]).trim(),
        "ext4"
    );
    assert_eq!(
        run(&reaper, "blkid", &["-o", "value", "-s", "LABEL", &eph_dev]).trim(),
        "EPHEMERAL"
    );
    let dump = run(&reaper, "sfdisk", &["--dump", &dev]);
    assert!(dump.contains("label: gpt"), "{dump}");
    let line = |name: &str| {
        dump.lines()
            .find(|l| l.contains(&format!("name=\"{name}\"")))
            .map(str::to_string)
    };
    let state_line = line("STATE").unwrap_or_else(|| panic!("{dump}"));
    assert!(
        state_line.starts_with(&format!(
            "{state_dev} : start=        2048, size=      204800"
        )),
        "{state_line}"
    );
    assert!(
        state_line.contains("type=0FC63DAF-8483-4772-8E79-3D69D8477DE4"),
        "{state_line}"
    );
    let eph_line = line("EPHEMERAL").unwrap_or_else(|| panic!("{dump}"));
    assert!(
        eph_line.starts_with(&format!("{eph_dev} : start=      206848")),
        "{eph_line}"
    );
}

#[test]
fn an_explicit_disk_with_data_is_refused() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root (loop devices)"
    );
    require("losetup", "mount");
    let reaper = Reaper::start().unwrap();
    let lo = Loop::new(&reaper, 600 * MIB);
    std::fs::write(&lo.device, b"version: v1alpha1\n").unwrap();
    let mut lines = Vec::new();
    let Prepared::None(why) = prepare(&reaper, &lo.device, &mut lines) else {
        panic!("a disk holding data must never be partitioned");
    };
    assert!(why.contains("refused") && why.contains("wipe"), "{why}");
    let mut head = [0u8; 18];
    std::fs::File::open(&lo.device)
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    assert_eq!(&head, b"version: v1alpha1\n");
}
