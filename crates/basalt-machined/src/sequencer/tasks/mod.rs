//! The tasks of machined's sequences, one file per concern.

mod boot;
mod disks;
mod initialize;
mod reset;
mod stop;

pub use boot::{load_services, mount_ephemeral, start_services, wait_for_services};
pub use disks::{mount_state, unmount_ephemeral, unmount_state, NO_DISK};
pub use initialize::{load_config, loopback_up, mount_pseudo, publish_identity, set_hostname};
pub use reset::{leave_etcd, reset_halt};
pub use stop::{request_halt, stop_services, sync, unmount_pseudo, wipe_ephemeral, wipe_state};

use super::{Context, Task};
use crate::events::MachineEvent;
use crate::machine::resources;

/// Publishes the machine stage (resource `MachineStatuses`, id `machine`, and a bus event).
pub fn set_stage(ctx: &Context, stage: &str, ready: bool) -> anyhow::Result<()> {
    resources::publish_status(&ctx.store, stage, ready)?;
    ctx.bus.publish(MachineEvent::MachineStatus {
        stage: stage.to_string(),
        ready,
    });
    Ok(())
}

/// A task `setStage` publishing `stage` (not ready).
pub fn stage_task(stage: &'static str) -> Task {
    Task::new("setStage", move |ctx: Context| async move {
        set_stage(&ctx, stage, false)
    })
}
