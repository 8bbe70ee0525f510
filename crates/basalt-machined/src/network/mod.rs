//! Static network configuration from `machine.network.interfaces[]`, in container and metal
//! mode: per interface MTU, addresses, link up and routes over rtnetlink, published as
//! `AddressStatuses.net.basalt.dev` resources. In metal mode [`dhcp`] runs DHCPv4 on the first
//! NIC before the config is loaded. VIPs, VLANs, device selectors and dummy links are not
//! supported yet: they are reported on the console and skipped.

mod apply;
pub mod dhcp;
mod plan;
mod resource;
#[cfg(test)]
mod tests;

use std::time::Duration;

use basalt_config::MachineConfig;
use basalt_resources::{Store, StoreError};
use tokio_util::sync::CancellationToken;

use crate::pid1::console;
use crate::sequencer::Context;

pub use plan::{plan, LinkPlan, Plan, RoutePlan};
pub use resource::{definition, AddressSource, AddressStatusSpec};

/// How long machined waits for a configured link to appear (e.g. a veth moved in late).
pub const LINK_WAIT: Duration = Duration::from_secs(30);

/// The sequencer task `configureInterfaces` (after the config is loaded): first what the
/// config means for the DHCP client, then the static settings.
pub async fn configure_interfaces(ctx: Context) -> anyhow::Result<()> {
    if let Some(config) = ctx.machine.config() {
        dhcp::after_config(&config).await;
        configure(&ctx.store, &config, LINK_WAIT, &ctx.cancel).await?;
    }
    Ok(())
}

/// Applies the static interface settings of `config` (waiting up to `wait` for each link),
/// removes addresses configured earlier and no longer wanted, and publishes the result.
/// Network problems are logged, not returned; the error is a resource store failure.
pub async fn configure(
    store: &Store,
    config: &MachineConfig,
    wait: Duration,
    cancel: &CancellationToken,
) -> Result<Vec<AddressStatusSpec>, StoreError> {
    let Some(doc) = config.v1alpha1() else {
        return Ok(Vec::new());
    };
    let plan = plan(doc);
    for notice in &plan.notices {
        console::log(format_args!("network: {notice}"));
    }
    let previous = resource::published(store);
    let configured = apply::links(&plan.links, wait, cancel).await;
    apply::remove_stale(&previous, &configured);
    resource::publish(store, &configured)?;
    Ok(configured)
}
