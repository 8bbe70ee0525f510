//! The `reset` tasks that depend on the request ([`ResetOptions`](crate::sequencer::ResetOptions)):
//! leaving etcd, wiping the chosen partitions, and how the machine ends.

use anyhow::Context as _;

use crate::etcd::Phase;
use crate::pid1::console;
use crate::sequencer::{Context, Halt, SystemLabel};

/// Graceful reset of a control-plane node: removes this etcd member through the cluster
/// (membership shrinks), stops etcd and wipes its data; then stops the etcd controller so it
/// does not join again. Not graceful, or no etcd here: only the controller is stopped.
pub async fn leave_etcd(ctx: Context) -> anyhow::Result<()> {
    let options = ctx.machine.reset_options();
    console::log(format_args!("reset: {options}"));
    let Some(etcd) = ctx.machine.etcd().get() else {
        return Ok(());
    };
    let name = etcd.name().to_string();
    if !options.graceful {
        console::log(format_args!(
            "reset: not graceful: etcd member {name} stays in the member list; remove it from \
             another node with `basaltctl etcd remove-member ID`, or let it rejoin (a joining \
             node replaces its stale member)"
        ));
    } else if etcd.phase() == Phase::Running {
        if let Err(e) = etcd.leave().await {
            // etcd stops a member as soon as its removal is committed, so the reply of the
            // removal can be lost: ask the cluster whether this member is still listed
            if !removed_elsewhere(&etcd).await {
                return Err(anyhow::Error::new(e).context(format!(
                    "graceful reset of {name}: cannot leave the etcd cluster; fix etcd \
                     (basaltctl etcd status) or reset with --graceful=false"
                )));
            }
            console::log(format_args!(
                "reset: etcd member {name} is no longer listed by the cluster ({e}); its data \
                 is removed"
            ));
            crate::etcd::wipe_dir(&etcd.settings().data_dir)?;
        }
        console::log(format_args!("reset: etcd member {name} left the cluster"));
    } else {
        console::log(format_args!(
            "reset: etcd is {}: no member to remove",
            etcd.phase()
        ));
    }
    ctx.machine.etcd().set(None);
    Ok(())
}

/// Whether the cluster (asked through the control-plane endpoint's apid) lists members but
/// not this one.
async fn removed_elsewhere(etcd: &crate::etcd::EtcdControl) -> bool {
    let Some(discovery) = etcd.settings().discovery.clone() else {
        return false;
    };
    match discovery.members().await {
        Ok(members) if !members.is_empty() => !members.iter().any(|m| m.hostname == etcd.name()),
        _ => false,
    }
}

/// Wipes `label` when the reset asked for it.
pub(super) fn wipe(ctx: &Context, label: SystemLabel) -> anyhow::Result<()> {
    if !ctx.machine.reset_options().wipes(label) {
        console::log(format_args!("reset: {label} kept"));
        return Ok(());
    }
    let dir = match label {
        SystemLabel::State => ctx.paths.state(),
        SystemLabel::Ephemeral => ctx.paths.ephemeral(),
    };
    ctx.sys
        .wipe_dir(&dir)
        .with_context(|| format!("reset: cannot wipe {label} ({})", dir.display()))?;
    if label == SystemLabel::State {
        // the old config is gone: the next initialize must not load basalt.config= again,
        // and until a new one is applied the machine has none (maintenance mode rules)
        ctx.machine.set_skip_config_argument();
        ctx.machine.set_config(None);
    }
    console::log(format_args!("reset: {label} wiped ({})", dir.display()));
    Ok(())
}

/// Ends the reset: reboot (container mode: the machine main loop runs initialize and boot
/// again in place) or power off.
pub async fn reset_halt(ctx: Context) -> anyhow::Result<()> {
    let halt = if ctx.machine.reset_options().reboot {
        Halt::Reboot
    } else {
        Halt::PowerOff
    };
    ctx.machine.request_halt(halt);
    Ok(())
}
