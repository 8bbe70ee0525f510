//! DHCPv4 on the first NIC in metal mode, so the node has a network before any config is
//! loaded (maintenance mode, `basalt.config=http://…`). The client keeps running in the
//! background (renewing, rebinding, re-acquiring) until a config assigns the link static
//! addresses without `dhcp: true`.

mod client;
pub mod lease;
mod nic;
pub mod packet;
mod resolver;
mod runner;

use std::net::SocketAddrV4;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use basalt_config::MachineConfig;

pub use client::{Answer, Client};
pub use lease::Lease;
pub use nic::first_nic;
pub use resolver::{definition as resolver_definition, ResolverStatusSpec};
pub use runner::{publish, start, Handle};

use crate::pid1::console;
use crate::platform::Mode;
use crate::sequencer::Context;
use crate::sys::netlink;

/// How long the `dhcpFirstNic` task waits for the first lease before boot goes on.
pub const FIRST_LEASE_WAIT: Duration = Duration::from_secs(10);

/// The wait when the config is on the node (a config disk or file on the kernel command
/// line): a network without DHCP (static addresses in the config) costs only this.
pub const LOCAL_CONFIG_LEASE_WAIT: Duration = Duration::from_secs(1);

/// Whether `basalt.config=` on the kernel command line `cmdline` is fetched over the
/// network, or absent (maintenance mode, STATE: the API or a later fetch may need the lease).
fn needs_network_for_config(cmdline: &str) -> bool {
    match crate::config_source::config_argument(cmdline.split_whitespace()) {
        Some(value) => value.to_string_lossy().contains("://"),
        None => true,
    }
}

/// What went wrong in the DHCP client.
#[derive(Debug, thiserror::Error)]
pub enum DhcpError {
    /// The link cannot be used.
    #[error("link {link}: {why}")]
    Link {
        /// Interface name.
        link: String,
        /// Why.
        why: String,
    },
    /// The UDP socket on port 68 cannot be set up.
    #[error(
        "cannot open the DHCP client socket (udp 0.0.0.0:68 bound to {link}): {cause}; \
         machined needs root, and nothing else may use port 68 on that link"
    )]
    Socket {
        /// Interface name.
        link: String,
        /// The error.
        cause: std::io::Error,
    },
    /// A message could not be sent.
    #[error("cannot send a DHCP message on {link} to {to}: {cause}")]
    Send {
        /// Interface name.
        link: String,
        /// Destination.
        to: SocketAddrV4,
        /// The error.
        cause: std::io::Error,
    },
    /// Stopped before finishing.
    #[error("the DHCP client was stopped")]
    Cancelled,
}

/// The client machined runs (one per node: the first NIC).
static RUNNING: Mutex<Option<Handle>> = Mutex::new(None);

/// The link the running DHCP client serves, if any.
pub fn running_link() -> Option<String> {
    RUNNING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .map(|h| h.link().to_string())
}

/// Stops the running DHCP client, if any (releases its lease and removes its address).
pub async fn stop_running() {
    let handle = RUNNING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(h) = handle {
        h.stop().await;
    }
}

/// The sequencer task `stopDhcp` (reboot, shutdown, reset): releases the lease of the
/// running client, if any, after the services stopped.
pub async fn stop_task(_ctx: Context) -> anyhow::Result<()> {
    stop_running().await;
    Ok(())
}

/// The sequencer task `dhcpFirstNic` (metal mode only; nothing in container mode): brings
/// the first NIC up and starts DHCP on it, waiting up to [`FIRST_LEASE_WAIT`] for a lease.
pub async fn dhcp_first_nic(ctx: Context) -> anyhow::Result<()> {
    if ctx.mode != Mode::Metal || running_link().is_some() {
        return Ok(());
    }
    let Some(link) = first_nic(&ctx.paths.host("/sys/class/net")) else {
        console::log(format_args!(
            "dhcp: no physical Ethernet link in /sys/class/net; no DHCP (configure addresses in machine.network.interfaces)"
        ));
        return Ok(());
    };
    match netlink::link_index(&link) {
        Ok(Some(index)) => {
            if let Err(e) = netlink::link_up(index) {
                console::log(format_args!("dhcp: {e}"));
            }
        }
        Ok(None) => {}
        Err(e) => console::log(format_args!("dhcp: {e}")),
    }
    let client = match Client::open(&link, None) {
        Ok(c) => c,
        Err(e) => {
            console::log(format_args!("dhcp: {e}; no DHCP on {link}"));
            return Ok(());
        }
    };
    let mut handle = start(client, ctx.store.clone(), &ctx.cancel);
    // Only a config fetched over the network needs the lease before boot goes on.
    let cmdline = std::fs::read_to_string(ctx.paths.host("/proc/cmdline")).unwrap_or_default();
    let wait = if needs_network_for_config(&cmdline) {
        FIRST_LEASE_WAIT
    } else {
        LOCAL_CONFIG_LEASE_WAIT
    };
    let lease = tokio::select! {
        l = handle.wait_for_lease(wait) => l,
        () = ctx.cancel.cancelled() => None,
    };
    if lease.is_none() && !ctx.cancel.is_cancelled() {
        console::log(format_args!(
            "dhcp: no lease on {link} within {wait:?}; still trying in the background"
        ));
    }
    *RUNNING.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
    Ok(())
}

/// Applies what the loaded `config` says about DHCP (call before the static addresses are
/// applied): stops the client when its link gets static addresses without `dhcp: true`, and
/// reports `dhcp: true` on links the client does not serve.
pub async fn after_config(config: &MachineConfig) {
    let (stop, notices) = decide(config, running_link().as_deref());
    for n in &notices {
        console::log(format_args!("{n}"));
    }
    if stop {
        stop_running().await;
    }
}

/// Whether the client on `running` must stop under `config`, and the lines to log.
fn decide(config: &MachineConfig, running: Option<&str>) -> (bool, Vec<String>) {
    let mut stop = false;
    let mut notices = Vec::new();
    let devices = config
        .v1alpha1()
        .and_then(|d| d.machine.network.as_ref()?.interfaces.clone())
        .unwrap_or_default();
    for (i, dev) in devices.iter().enumerate() {
        let Some(name) = dev.interface.as_deref() else {
            continue;
        };
        let dhcp = dev.dhcp == Some(true);
        let has_static =
            dev.addresses.as_ref().is_some_and(|a| !a.is_empty()) || dev.cidr.is_some();
        if running == Some(name) {
            if has_static && !dhcp {
                notices.push(format!(
                    "dhcp: .machine.network.interfaces[{i}] gives {name} static addresses without dhcp: true; stopping DHCP on {name}"
                ));
                stop = true;
            }
        } else if dhcp {
            notices.push(format!(
                ".machine.network.interfaces[{i}] ({name}): dhcp: true is only supported on the first physical NIC in metal mode{}; the setting is ignored (use static addresses)",
                running.map(|r| format!(" ({r})")).unwrap_or_default()
            ));
        }
    }
    (stop, notices)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_a_fetched_or_missing_config_waits_for_the_lease() {
        assert!(needs_network_for_config(
            "console=ttyS0 basalt.config=http://10.0.2.2/c.yaml"
        ));
        assert!(needs_network_for_config("console=ttyS0"));
        assert!(!needs_network_for_config(
            "basalt.disk=/dev/vda basalt.config=/dev/vdb"
        ));
    }

    fn config(interfaces: &str) -> MachineConfig {
        MachineConfig::from_yaml(&format!(
            "version: v1alpha1\nmachine:\n  type: worker\n  network:\n    interfaces:\n{interfaces}\ncluster: {{}}\n"
        ))
        .unwrap()
    }

    #[test]
    fn static_addresses_stop_dhcp_unless_dhcp_is_set() {
        let c = config("    - interface: eth0\n      addresses: [10.5.0.2/24]");
        let (stop, notes) = decide(&c, Some("eth0"));
        assert!(stop);
        assert!(notes[0].contains("stopping DHCP on eth0"), "{notes:?}");
        let c = config("    - interface: eth0\n      dhcp: true\n      addresses: [10.5.0.2/24]");
        assert_eq!(decide(&c, Some("eth0")), (false, vec![]));
        let c = config("    - interface: eth0\n      mtu: 1400");
        assert_eq!(decide(&c, Some("eth0")), (false, vec![]));
        let c = config("    - interface: eth1\n      addresses: [10.5.0.2/24]");
        assert_eq!(decide(&c, Some("eth0")), (false, vec![]));
    }

    #[test]
    fn dhcp_elsewhere_is_reported() {
        let c = config("    - interface: eth1\n      dhcp: true");
        let (stop, notes) = decide(&c, Some("eth0"));
        assert!(!stop);
        assert!(
            notes[0].contains("(eth1): dhcp: true is only supported on the first physical NIC in metal mode (eth0)"),
            "{notes:?}"
        );
        let (_, notes) = decide(&c, None);
        assert_eq!(notes.len(), 1);
    }
}
