//! The sequences machined runs, per platform mode.

use super::tasks::{self, stage_task};
use super::{Halt, Phase, Sequence, SequenceKind, SequenceSet, Task};
use crate::platform::Mode;

/// `initialize`: mounts, loopback, config (and the interfaces it sets), hostname, identity.
pub fn initialize() -> Sequence {
    Sequence::new(
        SequenceKind::Initialize,
        vec![
            Phase::new("stage", vec![stage_task("booting")]),
            Phase::new(
                "mounts",
                vec![Task::new("mountPseudoFilesystems", tasks::mount_pseudo)],
            ),
            Phase::new("disks", vec![Task::new("mountState", tasks::mount_state)]),
            Phase::new(
                "network",
                vec![
                    Task::new("loopbackUp", tasks::loopback_up),
                    Task::new("dhcpFirstNic", crate::network::dhcp::dhcp_first_nic),
                ],
            ),
            Phase::new(
                "config",
                vec![
                    Task::new("loadConfig", tasks::load_config),
                    Task::new("configureInterfaces", crate::network::configure_interfaces),
                ],
            ),
            Phase::new(
                "identity",
                vec![
                    Task::new("setHostname", tasks::set_hostname),
                    Task::new("publishMember", tasks::publish_identity),
                ],
            ),
        ],
    )
}

/// `boot`: EPHEMERAL, services, readiness.
pub fn boot() -> Sequence {
    Sequence::new(
        SequenceKind::Boot,
        vec![
            Phase::new(
                "ephemeral",
                vec![Task::new("mountEphemeral", tasks::mount_ephemeral)],
            ),
            Phase::new(
                "services",
                vec![
                    Task::new("loadServices", tasks::load_services),
                    Task::new("startServices", tasks::start_services),
                ],
            ),
            Phase::new(
                "ready",
                vec![Task::new("waitForServices", tasks::wait_for_services)],
            ),
        ],
    )
}

fn stop_phases(kind: SequenceKind, stage: &'static str) -> Sequence {
    Sequence::new(
        kind,
        vec![Phase::new(
            "stopServices",
            vec![
                stage_task(stage),
                Task::new("stopAllServices", tasks::stop_services),
            ],
        )],
    )
}

fn unmount_phase() -> Phase {
    Phase::new(
        "unmount",
        vec![
            Task::new("stopDhcp", crate::network::dhcp::stop_task),
            Task::new("sync", tasks::sync),
            Task::new("unmountEphemeral", tasks::unmount_ephemeral),
            Task::new("unmountState", tasks::unmount_state),
            Task::new("unmountPseudoFilesystems", tasks::unmount_pseudo),
        ],
    )
}

fn halt_phase(halt: Halt) -> Phase {
    let name = match halt {
        Halt::PowerOff => "powerOff",
        Halt::Reboot => "reboot",
    };
    Phase::new(
        "halt",
        vec![Task::new(name, move |ctx| tasks::request_halt(ctx, halt))],
    )
}

/// `reboot`: stop services, unmount; then `initialize` + `boot` in place (container) or a
/// kernel reboot (metal).
pub fn reboot(mode: Mode) -> Sequence {
    let mut s = stop_phases(SequenceKind::Reboot, "rebooting");
    s.phases.push(unmount_phase());
    match mode {
        Mode::Container => s.then(&initialize()).then(&boot()),
        Mode::Metal => {
            s.phases.push(halt_phase(Halt::Reboot));
            s
        }
    }
}

/// `shutdown`: stop services, sync, unmount, power off (container: PID 1 exits).
pub fn shutdown() -> Sequence {
    let mut s = stop_phases(SequenceKind::Shutdown, "shutting down");
    s.phases.push(unmount_phase());
    s.phases.push(halt_phase(Halt::PowerOff));
    s
}

/// `reset`: leave etcd (graceful, control plane), stop services, wipe the requested system
/// partitions (see [`ResetOptions`](super::ResetOptions)), unmount, then reboot or power off.
/// A container-mode reboot after a reset is initialize + boot run by the machine main loop.
pub fn reset() -> Sequence {
    Sequence::new(
        SequenceKind::Reset,
        vec![
            Phase::new(
                "leaveEtcd",
                vec![
                    stage_task("resetting"),
                    Task::new("leaveEtcd", tasks::leave_etcd),
                ],
            ),
            Phase::new(
                "stopServices",
                vec![Task::new("stopAllServices", tasks::stop_services)],
            ),
            Phase::new(
                "wipe",
                vec![
                    Task::new("wipeState", tasks::wipe_state),
                    Task::new("wipeEphemeral", tasks::wipe_ephemeral),
                ],
            ),
            unmount_phase(),
            Phase::new("halt", vec![Task::new("resetHalt", tasks::reset_halt)]),
        ],
    )
}

/// Every sequence for `mode`.
pub fn for_mode(mode: Mode) -> SequenceSet {
    SequenceSet::new(vec![
        initialize(),
        boot(),
        reboot(mode),
        shutdown(),
        reset(),
    ])
}
