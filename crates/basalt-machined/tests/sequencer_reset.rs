//! The reset sequence with request options (container mode, privileged calls recorded): which
//! partitions are wiped, how the machine ends, and that a wiped STATE means maintenance mode
//! even when `basalt.config=` names a config.

#![allow(clippy::unwrap_used)]

mod sequencer_support;

use basalt_machined::machine::resources::{MachineStatusSpec, MACHINE_STATUS_ID};
use basalt_machined::sequencer::{Halt, ResetOptions, SequenceKind, SystemLabel};
use basalt_resources::Spec;
use sequencer_support::{valid_config_text, within, TestMachine};

fn stage(m: &TestMachine) -> Option<String> {
    m.handle
        .store()
        .get(
            MachineStatusSpec::NAMESPACE,
            MachineStatusSpec::TYPE,
            MACHINE_STATUS_ID,
        )
        .ok()
        .and_then(|r| r.spec_as::<MachineStatusSpec>().ok())
        .map(|s| s.stage)
}

async fn wait_idle(m: &TestMachine) {
    within(async {
        while m.handle.sequencer().running().is_some() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn reset_wipes_only_the_requested_label_and_reboots() {
    let m = TestMachine::new(None);
    m.write("/system/state/config.yaml", &valid_config_text());
    let seq = m.handle.sequencer().clone();
    within(seq.run(SequenceKind::Initialize)).await.unwrap();
    let options = ResetOptions {
        graceful: true,
        reboot: true,
        wipe: vec![SystemLabel::Ephemeral],
    };
    m.handle.reset_with(options.clone()).unwrap();
    wait_idle(&m).await;
    let root = m.root.path().display().to_string();
    let calls = m.sys.calls();
    assert!(calls.contains(&format!("wipe {root}/var")), "{calls:#?}");
    assert!(
        !calls.contains(&format!("wipe {root}/system/state")),
        "{calls:#?}"
    );
    assert_eq!(m.handle.halt_requested(), Some(Halt::Reboot));
    assert_eq!(m.handle.state().reset_options(), options);
    assert!(!m.handle.state().skip_config_argument());
}

#[tokio::test]
async fn reset_of_state_ignores_the_config_argument_afterwards() {
    let m = TestMachine::new(Some("/run/config.yaml"));
    m.write("/run/config.yaml", &valid_config_text());
    let seq = m.handle.sequencer().clone();
    within(seq.run(SequenceKind::Initialize)).await.unwrap();
    assert_eq!(stage(&m).as_deref(), Some("booting"));
    within(seq.run(SequenceKind::Reset)).await.unwrap();
    assert!(m.handle.state().skip_config_argument());
    assert!(
        m.handle.config().is_none(),
        "the wiped config is still in use"
    );
    assert_eq!(m.handle.halt_requested(), Some(Halt::PowerOff));
    // the recorded wipe removes nothing: do what the real one does to the persisted copy
    std::fs::remove_file(m.path("/system/state/config.yaml")).unwrap();

    // initialize again (what the main loop does after a reset with reboot in container mode)
    let init = seq.start(SequenceKind::Initialize).unwrap();
    within(async {
        while stage(&m).as_deref() != Some("maintenance") {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    let shutdown = seq.start(SequenceKind::Shutdown).unwrap();
    let _ = within(init.wait()).await;
    within(shutdown.wait()).await.unwrap();
}

#[tokio::test]
async fn a_refused_reset_keeps_the_previous_options() {
    let m = TestMachine::new(None);
    m.write("/system/state/config.yaml", &valid_config_text());
    let seq = m.handle.sequencer().clone();
    within(seq.run(SequenceKind::Initialize)).await.unwrap();
    // a running shutdown may not be taken over by a reset
    let shutdown = seq.start(SequenceKind::Shutdown).unwrap();
    let refused = m.handle.reset_with(ResetOptions {
        graceful: false,
        reboot: true,
        wipe: vec![SystemLabel::State],
    });
    within(shutdown.wait()).await.unwrap();
    assert!(refused.unwrap_err().to_string().contains("locked"));
    assert_eq!(m.handle.state().reset_options(), ResetOptions::default());
}
