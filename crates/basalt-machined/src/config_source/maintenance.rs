//! Maintenance mode: what machined does when it has no usable config.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use basalt_config::MachineConfig;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::MaintenanceReason;
use crate::pid1::console;

/// Waits for a config while the machine is in maintenance mode.
#[async_trait]
pub trait MaintenanceHook: Send + Sync + fmt::Debug {
    /// Returns a config once one arrives (configs applied over the API arrive in `inbox`), or
    /// `None` when `cancel` fires first (a reboot or shutdown took over).
    async fn wait_for_config(
        &self,
        reason: &MaintenanceReason,
        inbox: &Inbox,
        cancel: CancellationToken,
    ) -> Option<MachineConfig>;
}

/// A hook that only logs why and waits until cancelled (tests of the sequences).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogAndWait;

#[async_trait]
impl MaintenanceHook for LogAndWait {
    async fn wait_for_config(
        &self,
        reason: &MaintenanceReason,
        _inbox: &Inbox,
        cancel: CancellationToken,
    ) -> Option<MachineConfig> {
        console::log(format_args!(
            "{reason}; no config: waiting in maintenance mode"
        ));
        cancel.cancelled().await;
        None
    }
}

/// machined's hook: waits for a config applied over the API (`ApplyConfiguration`, which
/// validates and persists it before handing it to the [`Inbox`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct WaitForApply;

#[async_trait]
impl MaintenanceHook for WaitForApply {
    async fn wait_for_config(
        &self,
        reason: &MaintenanceReason,
        inbox: &Inbox,
        cancel: CancellationToken,
    ) -> Option<MachineConfig> {
        console::log(format_args!(
            "{reason}; maintenance mode: waiting for a config over the API \
             (basaltctl apply-config --insecure -n NODE -f FILE)"
        ));
        tokio::select! {
            config = inbox.receive() => Some(config),
            _ = cancel.cancelled() => None,
        }
    }
}

/// Where a config applied in maintenance mode is handed to the waiting boot. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Inbox {
    inner: Arc<InboxInner>,
}

#[derive(Debug, Default)]
struct InboxInner {
    slot: Mutex<Option<MachineConfig>>,
    waiting: AtomicBool,
    notify: Notify,
}

/// Marks the inbox as not waited on when the receiver goes away (cancelled or done).
struct Waiting<'a>(&'a AtomicBool);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Inbox {
    /// An empty inbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hands `config` to the receiver; returns whether one was waiting (else the config
    /// stays in the inbox for the next receiver).
    pub fn deliver(&self, config: MachineConfig) -> bool {
        let waiting = self.inner.waiting.load(Ordering::SeqCst);
        *self
            .inner
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(config);
        self.inner.notify.notify_one();
        waiting
    }

    /// Whether a boot waits in maintenance mode for a config right now.
    pub fn is_waiting(&self) -> bool {
        self.inner.waiting.load(Ordering::SeqCst)
    }

    /// Waits for the next delivered config.
    pub async fn receive(&self) -> MachineConfig {
        self.inner.waiting.store(true, Ordering::SeqCst);
        let _guard = Waiting(&self.inner.waiting);
        loop {
            let taken = self
                .inner
                .slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(config) = taken {
                return config;
            }
            self.inner.notify.notified().await;
        }
    }
}
