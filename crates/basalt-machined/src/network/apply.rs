//! Carries out a [`Plan`](super::Plan) over rtnetlink: waits for each link, sets its MTU, adds
//! its addresses, brings it up and adds its routes. Idempotent: what already exists (`EEXIST`,
//! e.g. after a reboot in place) counts as done. Problems are logged, never fatal.

use std::time::Duration;

use nix::errno::Errno;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::plan::{LinkPlan, RoutePlan};
use super::resource::AddressStatusSpec;
use crate::pid1::console;
use crate::sys::netlink::{self, already_exists, RouteRequest};
use crate::sys::SysResult;

/// How often the presence of a missing link is checked.
const POLL: Duration = Duration::from_millis(100);

/// Configures every link of `links` (waiting up to `wait` for each to appear); returns the
/// addresses now present.
pub async fn links(
    links: &[LinkPlan],
    wait: Duration,
    cancel: &CancellationToken,
) -> Vec<AddressStatusSpec> {
    let mut out = Vec::new();
    for link in links {
        if let Some(index) = wait_for_link(&link.name, wait, cancel).await {
            out.extend(configure_link(link, index));
        }
    }
    out
}

/// The index of link `name` once it exists; `None` after `wait` or on cancellation.
async fn wait_for_link(name: &str, wait: Duration, cancel: &CancellationToken) -> Option<u32> {
    let deadline = Instant::now() + wait;
    let mut waiting = false;
    loop {
        match netlink::link_index(name) {
            Ok(Some(index)) => {
                if waiting {
                    console::log(format_args!("network: link {name} appeared"));
                }
                return Some(index);
            }
            Ok(None) => {}
            Err(e) => {
                console::log(format_args!("network: {e}; link {name} is not configured"));
                return None;
            }
        }
        if Instant::now() >= deadline {
            console::log(format_args!(
                "network: link {name} did not appear within {wait:?}; its addresses and routes are not configured \
                 (check the interface name in machine.network.interfaces)"
            ));
            return None;
        }
        if !waiting {
            console::log(format_args!(
                "network: waiting up to {wait:?} for link {name} to appear"
            ));
            waiting = true;
        }
        tokio::select! {
            () = cancel.cancelled() => return None,
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// `Ok` also when the object already existed; logs and returns `false` on other errors.
fn done(what: &str, result: SysResult) -> bool {
    match result {
        Ok(()) => true,
        Err(e) if already_exists(&e) => true,
        Err(e) => {
            console::log(format_args!(
                "network: {what}: {e}; check machine.network.interfaces"
            ));
            false
        }
    }
}

fn configure_link(link: &LinkPlan, index: u32) -> Vec<AddressStatusSpec> {
    let name = &link.name;
    if let Some(mtu) = link.mtu {
        done(name, netlink::set_mtu(index, mtu));
    }
    let mut out = Vec::new();
    for net in &link.addresses {
        if done(
            name,
            netlink::add_address(index, net.addr(), net.prefix_len()),
        ) {
            out.push(AddressStatusSpec::new(name, net));
        }
    }
    done(name, netlink::link_up(index));
    let routes = link
        .routes
        .iter()
        .filter(|r| done(name, netlink::add_route(&request(index, r))))
        .count();
    let addresses: Vec<String> = out.iter().map(|a| a.address.clone()).collect();
    console::log(format_args!(
        "network: {name} is up with addresses [{}], {routes} route(s){}",
        addresses.join(", "),
        link.mtu.map(|m| format!(", mtu {m}")).unwrap_or_default()
    ));
    out
}

fn request(index: u32, r: &RoutePlan) -> RouteRequest {
    RouteRequest {
        index,
        destination: r.destination.map(|n| (n.addr(), n.prefix_len())),
        gateway: r.gateway,
        source: r.source,
        metric: r.metric,
        mtu: r.mtu,
    }
}

/// Removes addresses configured earlier (`previous`) that are no longer wanted.
pub fn remove_stale(previous: &[AddressStatusSpec], configured: &[AddressStatusSpec]) {
    for old in previous.iter().filter(|p| !configured.contains(p)) {
        let Ok(net) = old.address.parse::<ipnet::IpNet>() else {
            continue;
        };
        let Ok(Some(index)) = netlink::link_index(&old.link_name) else {
            continue;
        };
        match netlink::delete_address(index, net.addr(), net.prefix_len()) {
            Ok(()) => console::log(format_args!(
                "network: removed {} from {} (no longer configured)",
                old.address, old.link_name
            )),
            Err(e) if e.cause.raw_os_error() == Some(Errno::EADDRNOTAVAIL as i32) => {}
            Err(e) => console::log(format_args!("network: {e}")),
        }
    }
}
