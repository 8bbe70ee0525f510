//! `reboot`, `shutdown`, `reset`: stopping, unmounting, wiping, halting.

use crate::pid1::console;
use crate::platform;
use crate::sequencer::{Context, Halt};

/// Stops every service (dependents first) and waits until their processes are gone.
pub async fn stop_services(ctx: Context) -> anyhow::Result<()> {
    ctx.supervisor.stop_all().await;
    Ok(())
}

/// Flushes file system buffers.
pub async fn sync(ctx: Context) -> anyhow::Result<()> {
    ctx.sys.sync();
    Ok(())
}

/// Detaches the pseudo file systems (`initialize` mounts them again on an in-place reboot).
/// Failures are logged, not fatal: the machine is going down anyway.
pub async fn unmount_pseudo(ctx: Context) -> anyhow::Result<()> {
    for e in platform::unmount_pseudo(ctx.sys.as_ref(), ctx.mode, &ctx.paths) {
        console::log(format_args!("warning: {e}"));
    }
    Ok(())
}

/// Removes everything in STATE (config, node identity), unless the reset keeps it.
pub async fn wipe_state(ctx: Context) -> anyhow::Result<()> {
    super::reset::wipe(&ctx, crate::sequencer::SystemLabel::State)
}

/// Removes everything in EPHEMERAL (`/var`), unless the reset keeps it.
pub async fn wipe_ephemeral(ctx: Context) -> anyhow::Result<()> {
    super::reset::wipe(&ctx, crate::sequencer::SystemLabel::Ephemeral)
}

/// Asks the machine main loop to power off or reboot once the sequence ends.
pub async fn request_halt(ctx: Context, halt: Halt) -> anyhow::Result<()> {
    ctx.machine.request_halt(halt);
    Ok(())
}
