//! The real container-mode sequences on a temporary root, with privileged calls recorded
//! (RecordingSyscall) and real service processes (`/bin/sleep` of the host).

#![allow(clippy::unwrap_used)]

mod sequencer_support;

use basalt_machined::events::ServiceState;
use basalt_machined::machine::resources::{
    HostnameSpec, MachineStatusSpec, MemberSpec, MACHINE_CONFIG_ID, MACHINE_CONFIG_NAMESPACE,
    MACHINE_CONFIG_TYPE, MACHINE_STATUS_ID,
};
use basalt_machined::sequencer::{Halt, SequenceKind, SequencerError};
use basalt_resources::Spec;
use sequencer_support::{lifecycle, valid_config_text, within, TestMachine};

fn status(m: &TestMachine) -> MachineStatusSpec {
    m.handle
        .store()
        .get(
            MachineStatusSpec::NAMESPACE,
            MachineStatusSpec::TYPE,
            MACHINE_STATUS_ID,
        )
        .unwrap()
        .spec_as()
        .unwrap()
}

fn with_services(m: &TestMachine) {
    m.write(
        "/usr/lib/basalt/services/10-first.yaml",
        "name: first\ncommand: [/bin/sleep, '1000']\nstopTimeout: 2s\n",
    );
    m.write(
        "/usr/lib/basalt/services/20-second.yaml",
        "name: second\ncommand: [/bin/sleep, '1000']\n\
         dependsOn: [{service: first, condition: running}]\nstopTimeout: 2s\n",
    );
    m.write(
        "/usr/lib/basalt/services/30-broken.yaml",
        "name: broken\ncommand: /bin/sleep\n",
    );
}

fn states(m: &TestMachine) -> Vec<(String, ServiceState)> {
    m.handle
        .services()
        .into_iter()
        .map(|s| (s.id, s.state))
        .collect()
}

#[tokio::test]
async fn initialize_boot_shutdown_with_config_on_state() {
    let m = TestMachine::new(None);
    m.write("/system/state/config.yaml", &valid_config_text());
    with_services(&m);
    let seq = m.handle.sequencer().clone();

    within(seq.run(SequenceKind::Initialize)).await.unwrap();
    let root = m.root.path().display().to_string();
    let calls = m.sys.calls();
    assert!(
        calls.contains(&format!(
            "mount proc on {root}/proc type proc flags MS_NOSUID|MS_NODEV|MS_NOEXEC"
        )),
        "{calls:#?}"
    );
    assert!(calls.contains(&format!(
        "mount sysfs on {root}/sys type sysfs flags MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC"
    )));
    assert!(calls.contains(&"link up 1".to_string()));
    assert!(calls.iter().any(|c| c.starts_with("sethostname ")));
    let store = m.handle.store();
    assert_eq!(status(&m).stage, "booting");
    store
        .get(
            MACHINE_CONFIG_NAMESPACE,
            MACHINE_CONFIG_TYPE,
            MACHINE_CONFIG_ID,
        )
        .unwrap();
    let host: HostnameSpec = store
        .get(HostnameSpec::NAMESPACE, HostnameSpec::TYPE, "hostname")
        .unwrap()
        .spec_as()
        .unwrap();
    let members = store.list(MemberSpec::NAMESPACE, MemberSpec::TYPE);
    assert_eq!(members.len(), 1);
    let member: MemberSpec = members[0].spec_as().unwrap();
    assert_eq!(member.machine_type, "worker");
    assert_eq!(member.hostname, host.hostname);
    assert!(m.path("/system/state/node-id").exists());
    assert!(store.resolve("members").is_some() && store.resolve("ms").is_some());

    within(seq.run(SequenceKind::Boot)).await.unwrap();
    assert_eq!(
        status(&m),
        MachineStatusSpec {
            stage: "running".into(),
            ready: true
        }
    );
    assert_eq!(
        states(&m),
        [
            ("first".to_string(), ServiceState::Running),
            ("second".to_string(), ServiceState::Running)
        ]
    );
    assert!(m.path("/var/log").is_dir() && m.path("/var/lib").is_dir());

    m.sys.clear();
    within(seq.run(SequenceKind::Shutdown)).await.unwrap();
    assert_eq!(status(&m).stage, "shutting down");
    for (id, state) in states(&m) {
        assert!(
            matches!(state, ServiceState::Finished | ServiceState::Failed),
            "{id} is {state} after shutdown"
        );
    }
    assert_eq!(
        m.sys.calls(),
        [
            "sync".to_string(),
            format!("umount {root}/sys flags MNT_DETACH"),
            format!("umount {root}/proc flags MNT_DETACH"),
        ]
    );
    assert_eq!(m.handle.halt_requested(), Some(Halt::PowerOff));
}

#[tokio::test]
async fn reboot_runs_initialize_and_boot_again_in_place() {
    let m = TestMachine::new(Some("/run/cfg.yaml"));
    m.write("/run/cfg.yaml", &valid_config_text());
    with_services(&m);
    let seq = m.handle.sequencer().clone();
    within(seq.run(SequenceKind::Initialize)).await.unwrap();
    // the argument's config was persisted to STATE
    assert!(m.path("/system/state/config.yaml").is_file());
    within(seq.run(SequenceKind::Boot)).await.unwrap();
    let first_boot = m.handle.bus().next_id();

    within(seq.run(SequenceKind::Reboot)).await.unwrap();
    assert_eq!(status(&m).stage, "running");
    assert!(status(&m).ready);
    assert_eq!(
        m.handle.halt_requested(),
        None,
        "container reboots in place"
    );
    let since: Vec<_> = m
        .handle
        .bus()
        .recent(10_000)
        .into_iter()
        .filter(|(id, _)| *id >= first_boot)
        .collect();
    let phases: Vec<String> = lifecycle(&since)
        .into_iter()
        .filter(|l| l.starts_with("phase") && l.ends_with("Start"))
        .collect();
    assert_eq!(
        phases,
        [
            "phase reboot/stopServices Start",
            "phase reboot/unmount Start",
            "phase reboot/stage Start",
            "phase reboot/mounts Start",
            "phase reboot/disks Start",
            "phase reboot/network Start",
            "phase reboot/config Start",
            "phase reboot/identity Start",
            "phase reboot/ephemeral Start",
            "phase reboot/services Start",
            "phase reboot/ready Start",
        ]
    );
    let proc_mounts = m
        .sys
        .calls()
        .iter()
        .filter(|c| c.starts_with("mount proc"))
        .count();
    assert_eq!(proc_mounts, 2, "initialize ran twice");
    within(seq.run(SequenceKind::Shutdown)).await.unwrap();
}

#[tokio::test]
async fn reset_wipes_state_and_ephemeral() {
    let m = TestMachine::new(None);
    m.write("/system/state/config.yaml", &valid_config_text());
    let seq = m.handle.sequencer().clone();
    within(seq.run(SequenceKind::Initialize)).await.unwrap();
    within(seq.run(SequenceKind::Reset)).await.unwrap();
    let root = m.root.path().display().to_string();
    let calls = m.sys.calls();
    assert!(
        calls.contains(&format!("wipe {root}/system/state")),
        "{calls:#?}"
    );
    assert!(calls.contains(&format!("wipe {root}/var")));
    assert_eq!(m.handle.halt_requested(), Some(Halt::PowerOff));
}

#[tokio::test]
async fn no_config_waits_in_maintenance_until_shutdown_takes_over() {
    let m = TestMachine::new(None);
    let seq = m.handle.sequencer().clone();
    let init = seq.start(SequenceKind::Initialize).unwrap();
    within(async {
        while m
            .handle
            .store()
            .get(
                MachineStatusSpec::NAMESPACE,
                MachineStatusSpec::TYPE,
                MACHINE_STATUS_ID,
            )
            .ok()
            .and_then(|r| r.spec_as::<MachineStatusSpec>().ok())
            .is_none_or(|s| s.stage != "maintenance")
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(seq.running(), Some(SequenceKind::Initialize));
    let shutdown = seq.start(SequenceKind::Shutdown).unwrap();
    assert_eq!(
        within(init.wait()).await.unwrap_err(),
        SequencerError::Cancelled {
            sequence: "initialize",
            by: "shutdown"
        }
    );
    within(shutdown.wait()).await.unwrap();
}

#[tokio::test]
async fn a_failed_mount_stops_initialize_but_shutdown_still_works() {
    let m = TestMachine::new(None);
    m.sys.fail_on("type proc");
    let seq = m.handle.sequencer().clone();
    let err = within(seq.run(SequenceKind::Initialize)).await.unwrap_err();
    assert!(
        matches!(&err, SequencerError::TaskFailed { task, error, .. }
            if task == "mountPseudoFilesystems" && error.contains("mount proc") && error.contains("Operation not permitted")),
        "{err}"
    );
    within(seq.run(SequenceKind::Shutdown)).await.unwrap();
    assert_eq!(m.handle.halt_requested(), Some(Halt::PowerOff));
}
