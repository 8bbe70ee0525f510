//! Shared helpers of the sequencer tests: a machine whose privileged calls are recorded
//! (RecordingSyscall) and whose `/` is a temporary directory.

#![allow(clippy::unwrap_used, dead_code)]

use std::sync::Arc;
use std::time::Duration;

use basalt_machined::config_source::LogAndWait;
use basalt_machined::events::MachineEvent;
use basalt_machined::machine::{assemble, MachineHandle};
use basalt_machined::platform::{Mode, Paths};
use basalt_machined::sys::RecordingSyscall;

/// A machine on a temporary root.
pub struct TestMachine {
    pub root: tempfile::TempDir,
    pub sys: RecordingSyscall,
    pub handle: MachineHandle,
}

impl TestMachine {
    /// A container-mode machine; `/system/state`, `/var`, `/run` exist under the root.
    pub fn new(config_argument: Option<&str>) -> Self {
        let root = tempfile::tempdir().unwrap();
        for dir in ["system/state", "var", "run", "usr/lib/basalt/services"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        let sys = RecordingSyscall::new();
        let handle = assemble(
            Mode::Container,
            Arc::new(sys.clone()),
            Paths::under(root.path()),
            config_argument.map(Into::into),
            "/usr/bin/basalt".into(),
            Arc::new(LogAndWait),
        )
        .unwrap();
        TestMachine { root, sys, handle }
    }

    /// Writes `text` at `inside` (absolute path inside the node).
    pub fn write(&self, inside: &str, text: &str) {
        let path = self.root.path().join(inside.trim_start_matches('/'));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// `inside` as a host path.
    pub fn path(&self, inside: &str) -> std::path::PathBuf {
        self.root.path().join(inside.trim_start_matches('/'))
    }
}

/// A valid generated worker config (Talos v1alpha1 layout).
pub fn valid_config_text() -> String {
    let secrets = basalt_pki::SecretsBundle::generate().unwrap();
    let opts = basalt_config::generate::GenerateOptions::new("demo", "https://10.5.0.2:6443");
    basalt_config::generate::generate(&secrets, &opts)
        .unwrap()
        .worker
        .to_yaml()
        .unwrap()
}

/// Sequence/phase/task events as short lines: `seq boot Start`, `phase boot/p Start`,
/// `task boot/p/t Stop err=...`.
pub fn lifecycle(events: &[(u64, MachineEvent)]) -> Vec<String> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            MachineEvent::Sequence {
                sequence,
                action,
                error,
            } => Some(format!("seq {sequence} {action:?}{}", err(error))),
            MachineEvent::Phase {
                sequence,
                phase,
                action,
            } => Some(format!("phase {sequence}/{phase} {action:?}")),
            MachineEvent::Task {
                sequence,
                phase,
                task,
                action,
                error,
            } => Some(format!(
                "task {sequence}/{phase}/{task} {action:?}{}",
                err(error)
            )),
            _ => None,
        })
        .collect()
}

fn err(e: &Option<String>) -> String {
    match e {
        Some(e) => format!(" err={e}"),
        None => String::new(),
    }
}

/// Runs `f` with a 60 s guard against hangs.
pub async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test step hung for 60 s")
}
