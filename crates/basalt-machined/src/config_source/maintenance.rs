//! Maintenance mode: what machined does when it has no usable config.

use std::fmt;

use async_trait::async_trait;
use basalt_config::MachineConfig;
use tokio_util::sync::CancellationToken;

use super::MaintenanceReason;
use crate::pid1::console;

/// Waits for a config while the machine is in maintenance mode. The API issue provides an
/// implementation that accepts a config over the network.
#[async_trait]
pub trait MaintenanceHook: Send + Sync + fmt::Debug {
    /// Returns a config once one arrives, or `None` when `cancel` fires first (a reboot or
    /// shutdown took over).
    async fn wait_for_config(
        &self,
        reason: &MaintenanceReason,
        cancel: CancellationToken,
    ) -> Option<MachineConfig>;
}

/// The default hook: logs why and waits until cancelled.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogAndWait;

#[async_trait]
impl MaintenanceHook for LogAndWait {
    async fn wait_for_config(
        &self,
        reason: &MaintenanceReason,
        cancel: CancellationToken,
    ) -> Option<MachineConfig> {
        console::log(format_args!(
            "{reason}; no config: waiting in maintenance mode (the API issue fills this in)"
        ));
        cancel.cancelled().await;
        None
    }
}
