//! STATE and EPHEMERAL in metal mode: `mountState` (initialize phase `disks`),
//! [`mount_ephemeral_metal`] (boot), `unmountEphemeral` + `unmountState` (reboot, shutdown,
//! reset). Container mode keeps the launcher's binds: these tasks do nothing there.

use std::path::PathBuf;

use crate::disk::{self, BlockEnv, Prepared, Volume, VolumeMount, VolumeOrigin, VolumeStatusSpec};
use crate::pid1::console;
use crate::platform::Mode;
use crate::process::Reaper;
use crate::sequencer::Context;

/// How often a busy volume is tried before it is detached lazily.
const UMOUNT_ATTEMPTS: u32 = 40;
/// The pause between two attempts.
const UMOUNT_RETRY: std::time::Duration = std::time::Duration::from_millis(50);

/// The console line when no disk holds or can hold the system.
pub const NO_DISK: &str =
    "no system disk: STATE and EPHEMERAL are in memory (tmpfs); nothing persists";

fn say(line: String) {
    console::log(format_args!("{line}"));
}

/// The `basalt.disk=` kernel argument.
fn disk_argument(ctx: &Context) -> Option<PathBuf> {
    let cmdline = std::fs::read_to_string(ctx.paths.host("/proc/cmdline")).ok()?;
    disk::select::disk_argument(cmdline.split_whitespace())
}

/// Finds (or on first boot creates) STATE and EPHEMERAL, mounts STATE on `/system/state` and
/// publishes both volume statuses (EPHEMERAL not yet mounted). Any disk problem is reported on
/// the console and ends in tmpfs: boot goes on.
pub async fn mount_state(ctx: Context) -> anyhow::Result<()> {
    if ctx.mode != Mode::Metal {
        return Ok(());
    }
    let env = BlockEnv::under(&ctx.paths.root);
    let mke2fs = ctx.paths.host(disk::MKE2FS);
    let explicit = disk_argument(&ctx);
    let sys = ctx.sys.clone();
    let prepared = tokio::task::spawn_blocking(move || {
        let reaper = Reaper::start().map_err(|e| e.to_string())?;
        disk::prepare(
            sys.as_ref(),
            &reaper,
            &env,
            &mke2fs,
            explicit.as_deref(),
            &mut say,
        )
        .map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(format!("the disk task stopped: {e}")));
    let found = match prepared {
        Ok(Prepared::Found(d)) => Ok((d, VolumeOrigin::Found)),
        Ok(Prepared::Created(d)) => Ok((d, VolumeOrigin::Created)),
        Ok(Prepared::None(why)) => Err(why),
        Err(e) => Err(format!("system disk: {e}")),
    };
    let (state, ephemeral) = match found {
        Ok((d, origin)) => {
            say(format!(
                "system disk {}: STATE and EPHEMERAL {}",
                d.disk.device.display(),
                if origin == VolumeOrigin::Created {
                    "created"
                } else {
                    "found"
                }
            ));
            let part = |device: PathBuf, size_bytes| VolumeMount {
                device,
                size_bytes,
                origin,
            };
            (
                Some(part(d.state, d.state_bytes)),
                Some(part(d.ephemeral, d.ephemeral_bytes)),
            )
        }
        Err(why) => {
            say(why);
            say(NO_DISK.to_string());
            (None, None)
        }
    };
    let status = disk::mount_volume(
        ctx.sys.as_ref(),
        &ctx.paths,
        Volume::State,
        state.as_ref(),
        &mut say,
    )?;
    disk::publish(&ctx.store, Volume::State.label(), &status)?;
    let pending = match ephemeral {
        Some(p) => VolumeStatusSpec {
            device: p.device.display().to_string(),
            filesystem: "ext4".into(),
            size_bytes: p.size_bytes,
            mount_point: Volume::Ephemeral.mount_point().into(),
            origin: p.origin,
            mounted: false,
        },
        None => VolumeStatusSpec {
            device: "tmpfs".into(),
            filesystem: "tmpfs".into(),
            size_bytes: 0,
            mount_point: Volume::Ephemeral.mount_point().into(),
            origin: VolumeOrigin::Tmpfs,
            mounted: false,
        },
    };
    disk::publish(&ctx.store, Volume::Ephemeral.label(), &pending)?;
    Ok(())
}

/// Mounts EPHEMERAL on `/var` (metal): the partition `mountState` published, else tmpfs.
pub fn mount_ephemeral_metal(ctx: &Context) -> anyhow::Result<()> {
    let part = disk::published(&ctx.store, Volume::Ephemeral.label())
        .filter(|s| s.filesystem == "ext4" && !s.mounted)
        .map(|s| VolumeMount {
            device: s.device.into(),
            size_bytes: s.size_bytes,
            origin: s.origin,
        });
    let status = disk::mount_volume(
        ctx.sys.as_ref(),
        &ctx.paths,
        Volume::Ephemeral,
        part.as_ref(),
        &mut say,
    )?;
    disk::publish(&ctx.store, Volume::Ephemeral.label(), &status)?;
    Ok(())
}

async fn unmount(ctx: Context, volume: Volume) -> anyhow::Result<()> {
    if ctx.mode != Mode::Metal {
        return Ok(());
    }
    let Some(mut status) = disk::published(&ctx.store, volume.label()).filter(|s| s.mounted) else {
        return Ok(());
    };
    let sys = ctx.sys.as_ref();
    let mut attempt = 1;
    let unmounted = loop {
        match disk::unmount_volume(sys, &ctx.paths, volume) {
            // files still being closed (the log writers): try again shortly
            Err(e) if disk::is_busy(&e) && attempt < UMOUNT_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(UMOUNT_RETRY).await;
            }
            Err(e) => {
                say(format!(
                    "warning: {e}; detaching {} lazily",
                    volume.mount_point()
                ));
                break disk::detach_volume(sys, &ctx.paths, volume);
            }
            Ok(()) => break Ok(()),
        }
    };
    if let Err(e) = unmounted {
        say(format!("warning: {e}"));
        return Ok(());
    }
    say(format!(
        "{} unmounted from {}",
        volume.label(),
        volume.mount_point()
    ));
    status.mounted = false;
    disk::publish(&ctx.store, volume.label(), &status)?;
    Ok(())
}

/// Unmounts EPHEMERAL (metal; the machine is going down: failures are logged, not fatal).
pub async fn unmount_ephemeral(ctx: Context) -> anyhow::Result<()> {
    if ctx.mode == Mode::Metal {
        // the log writers hold files in /var/log open
        ctx.supervisor.clear_log_dir();
    }
    unmount(ctx, Volume::Ephemeral).await
}

/// Unmounts STATE (metal; failures are logged, not fatal).
pub async fn unmount_state(ctx: Context) -> anyhow::Result<()> {
    unmount(ctx, Volume::State).await
}

#[cfg(test)]
#[path = "disks_tests.rs"]
mod tests;
