//! A DHCP lease: what the server granted, its timers, and putting it on (or taking it off)
//! the link over rtnetlink.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use nix::errno::Errno;
use tokio::time::Instant;

use super::packet::{prefix_len, Message};
use crate::sys::netlink::{self, already_exists, RouteRequest};
use crate::sys::SysResult;

/// Metric of the default route learned by DHCP (as Talos: static routes win).
pub const ROUTE_METRIC: u32 = 1024;
/// Lease time assumed when an ACK names none.
const DEFAULT_LEASE: u32 = 3600;

/// A granted lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// Our address.
    pub address: Ipv4Addr,
    /// Its prefix length.
    pub prefix: u8,
    /// Default gateways (the first is used).
    pub routers: Vec<Ipv4Addr>,
    /// DNS servers.
    pub dns_servers: Vec<Ipv4Addr>,
    /// DNS domain.
    pub domain: Option<String>,
    /// The server that granted it (renewals go there).
    pub server: Ipv4Addr,
    /// Lease duration.
    pub lease_time: Duration,
    /// When to renew (T1), from `acquired`.
    pub t1: Duration,
    /// When to rebind (T2), from `acquired`.
    pub t2: Duration,
    /// When the ACK arrived.
    pub acquired: Instant,
}

impl Lease {
    /// The lease granted by `ack` (a DHCPACK), received now.
    pub fn from_ack(ack: &Message) -> Self {
        let o = &ack.options;
        let secs = o.lease_time.unwrap_or(DEFAULT_LEASE);
        let lease_time = Duration::from_secs(u64::from(secs));
        let mut t2 = o
            .rebinding_time
            .map(|s| Duration::from_secs(u64::from(s)))
            .unwrap_or(lease_time.mul_f64(0.875));
        if t2 > lease_time {
            t2 = lease_time.mul_f64(0.875);
        }
        let mut t1 = o
            .renewal_time
            .map(|s| Duration::from_secs(u64::from(s)))
            .unwrap_or(lease_time / 2);
        if t1 > t2 {
            t1 = t2 / 2;
        }
        let prefix = o
            .subnet_mask
            .and_then(prefix_len)
            .unwrap_or_else(|| classful_prefix(ack.yiaddr));
        Lease {
            address: ack.yiaddr,
            prefix,
            routers: o.routers.clone(),
            dns_servers: o.dns_servers.clone(),
            domain: o.domain_name.clone().filter(|d| !d.is_empty()),
            server: o.server_id.unwrap_or(ack.siaddr),
            lease_time,
            t1,
            t2,
            acquired: Instant::now(),
        }
    }

    /// `10.0.2.15/24`.
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.address, self.prefix)
    }

    /// When the lease runs out.
    pub fn expires(&self) -> Instant {
        self.acquired + self.lease_time
    }
}

/// The prefix of an address's class, for servers that send no subnet mask.
fn classful_prefix(ip: Ipv4Addr) -> u8 {
    match ip.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

fn ok_if_exists(r: SysResult) -> SysResult {
    match r {
        Err(e) if already_exists(&e) => Ok(()),
        other => other,
    }
}

/// Puts `lease` on link `index`: the address, then a default route via the first router with
/// the leased address as source (so removing the address takes the route with it).
pub fn apply(index: u32, lease: &Lease) -> SysResult {
    ok_if_exists(netlink::add_address(
        index,
        IpAddr::V4(lease.address),
        lease.prefix,
    ))?;
    if let Some(router) = lease.routers.first() {
        ok_if_exists(netlink::add_route(&RouteRequest {
            index,
            destination: None,
            gateway: Some(IpAddr::V4(*router)),
            source: Some(IpAddr::V4(lease.address)),
            metric: Some(ROUTE_METRIC),
            mtu: None,
        }))?;
    }
    Ok(())
}

/// Takes `lease` off link `index` (the kernel drops the routes using the address with it).
pub fn remove(index: u32, lease: &Lease) -> SysResult {
    match netlink::delete_address(index, IpAddr::V4(lease.address), lease.prefix) {
        Err(e) if e.cause.raw_os_error() == Some(Errno::EADDRNOTAVAIL as i32) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::packet::{MessageType, Options};
    use super::*;

    fn ack(options: Options) -> Message {
        let mut m = Message::request(MessageType::Ack, 1, [0; 6]);
        m.reply = true;
        m.yiaddr = Ipv4Addr::new(10, 0, 2, 15);
        m.siaddr = Ipv4Addr::new(10, 0, 2, 4);
        m.options = options;
        m
    }

    #[test]
    fn timers_default_from_lease_time() {
        let l = Lease::from_ack(&ack(Options {
            lease_time: Some(86400),
            subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            server_id: Some(Ipv4Addr::new(10, 0, 2, 2)),
            ..Options::default()
        }));
        assert_eq!(l.cidr(), "10.0.2.15/24");
        assert_eq!(l.t1, Duration::from_secs(43200));
        assert_eq!(l.t2, Duration::from_secs(75600));
        assert_eq!(l.server, Ipv4Addr::new(10, 0, 2, 2));
    }

    #[test]
    fn inconsistent_timers_are_clamped_and_mask_defaults() {
        let l = Lease::from_ack(&ack(Options {
            lease_time: Some(100),
            renewal_time: Some(500),
            rebinding_time: Some(1000),
            subnet_mask: Some(Ipv4Addr::new(255, 0, 255, 0)),
            domain_name: Some(String::new()),
            ..Options::default()
        }));
        assert_eq!(l.t2, Duration::from_millis(87500));
        assert!(l.t1 < l.t2);
        assert_eq!(l.prefix, 8, "non-contiguous mask: classful default");
        assert_eq!(
            l.server,
            Ipv4Addr::new(10, 0, 2, 4),
            "siaddr without option 54"
        );
        assert_eq!(l.domain, None);
        assert_eq!(l.lease_time, Duration::from_secs(100));
    }
}
