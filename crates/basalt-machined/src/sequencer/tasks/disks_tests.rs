#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::config_source::LogAndWait;
use crate::disk::gpt;
use crate::machine::assemble;
use crate::platform::Paths;
use crate::sequencer::sequences;
use crate::sys::RecordingSyscall;

const MIB: u64 = 1 << 20;

/// A metal machine on a temporary root with recorded syscalls; `disk` (if any) is a fake
/// 600 MiB `vda` whose GPT already holds STATE and EPHEMERAL.
fn machine(disk: bool) -> (tempfile::TempDir, RecordingSyscall, Context) {
    let root = tempfile::tempdir().unwrap();
    let block = root.path().join("sys/class/block/vda");
    std::fs::create_dir_all(block.join("queue")).unwrap();
    std::fs::create_dir_all(root.path().join("dev")).unwrap();
    std::fs::create_dir_all(root.path().join("var")).unwrap();
    std::fs::write(block.join("queue/logical_block_size"), "512\n").unwrap();
    let size = if disk { 600 * MIB } else { 64 * MIB };
    std::fs::write(block.join("size"), format!("{}\n", size / 512)).unwrap();
    let mut f = std::fs::File::create(root.path().join("dev/vda")).unwrap();
    f.set_len(size).unwrap();
    if disk {
        gpt::write(&mut f, 512, size, &gpt::system_layout(512, size).unwrap()).unwrap();
    }
    let sys = RecordingSyscall::new();
    let handle = assemble(
        Mode::Metal,
        Arc::new(sys.clone()),
        Paths::under(root.path()),
        None,
        "/usr/bin/basalt".into(),
        Arc::new(LogAndWait),
    )
    .unwrap();
    let ctx = handle.sequencer().context().clone();
    (root, sys, ctx)
}

fn mounts(sys: &RecordingSyscall, root: &Path) -> Vec<String> {
    let root = root.display().to_string();
    sys.calls()
        .into_iter()
        .filter(|c| c.starts_with("mount ") || c.starts_with("umount "))
        .map(|c| c.replace(&root, ""))
        .collect()
}

#[tokio::test]
async fn a_found_disk_is_mounted_and_unmounted_in_order() {
    let (root, sys, ctx) = machine(true);
    mount_state(ctx.clone()).await.unwrap();
    let eph = disk::published(&ctx.store, "EPHEMERAL").unwrap();
    assert_eq!(eph.device, format!("{}/dev/vda2", root.path().display()));
    assert!(!eph.mounted);
    super::super::mount_ephemeral(ctx.clone()).await.unwrap();
    unmount_ephemeral(ctx.clone()).await.unwrap();
    unmount_state(ctx.clone()).await.unwrap();
    assert_eq!(
        mounts(&sys, root.path()),
        [
            "mount /dev/vda1 on /system/state type ext4 flags MS_NOSUID|MS_NODEV|MS_NOEXEC",
            "mount /dev/vda2 on /var type ext4 flags 0",
            "umount /var flags ",
            "umount /system/state flags ",
        ]
    );
    let state = disk::published(&ctx.store, "STATE").unwrap();
    assert_eq!(state.origin, VolumeOrigin::Found);
    assert_eq!(state.size_bytes, 100 * MIB);
    assert!(!state.mounted);
    assert!(root.path().join("var/log").is_dir());
}

#[tokio::test]
async fn no_disk_means_tmpfs_on_both() {
    let (root, sys, ctx) = machine(false);
    mount_state(ctx.clone()).await.unwrap();
    super::super::mount_ephemeral(ctx.clone()).await.unwrap();
    assert_eq!(
        mounts(&sys, root.path()),
        [
            "mount tmpfs on /system/state type tmpfs flags MS_NOSUID|MS_NODEV|MS_NOEXEC data mode=0755",
            "mount tmpfs on /var type tmpfs flags MS_NOSUID|MS_NODEV data mode=0755",
        ]
    );
    for id in ["STATE", "EPHEMERAL"] {
        let s = disk::published(&ctx.store, id).unwrap();
        assert_eq!((s.origin, s.mounted), (VolumeOrigin::Tmpfs, true), "{id}");
    }
}

#[tokio::test]
async fn a_state_that_does_not_mount_falls_back_to_tmpfs() {
    let (root, sys, ctx) = machine(true);
    sys.fail_on("type ext4");
    mount_state(ctx.clone()).await.unwrap();
    let calls = mounts(&sys, root.path());
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(
        calls[1].starts_with("mount tmpfs on /system/state"),
        "{calls:?}"
    );
    let state = disk::published(&ctx.store, "STATE").unwrap();
    assert_eq!(state.origin, VolumeOrigin::Tmpfs);
}

#[tokio::test]
async fn container_mode_does_nothing() {
    let (_root, sys, mut ctx) = machine(true);
    ctx.mode = Mode::Container;
    mount_state(ctx.clone()).await.unwrap();
    unmount_state(ctx.clone()).await.unwrap();
    assert!(sys.calls().is_empty(), "{:?}", sys.calls());
}

#[test]
fn sequences_place_the_disk_tasks() {
    let names = |s: &crate::sequencer::Sequence| -> Vec<String> {
        s.phases
            .iter()
            .flat_map(|p| {
                p.tasks
                    .iter()
                    .map(move |t| format!("{}/{}", p.name, t.name))
            })
            .collect()
    };
    let init = names(&sequences::initialize());
    let at = |n: &str| init.iter().position(|x| x == n).unwrap();
    assert!(at("mounts/mountPseudoFilesystems") < at("disks/mountState"));
    assert!(at("disks/mountState") < at("network/loopbackUp"));
    assert!(at("disks/mountState") < at("config/loadConfig"));
    for seq in [
        sequences::reboot(Mode::Metal),
        sequences::shutdown(),
        sequences::reset(),
    ] {
        let all = names(&seq);
        let at = |n: &str| all.iter().position(|x| x == n).unwrap();
        assert!(at("stopServices/stopAllServices") < at("unmount/sync"));
        assert!(at("unmount/sync") < at("unmount/unmountEphemeral"));
        assert!(at("unmount/unmountEphemeral") < at("unmount/unmountState"));
        assert!(at("unmount/unmountState") < at("unmount/unmountPseudoFilesystems"));
        if let Some(wipe) = all.iter().position(|x| x == "wipe/wipeEphemeral") {
            assert!(wipe < at("unmount/unmountEphemeral"));
        }
    }
}
