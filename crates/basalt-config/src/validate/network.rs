//! Checks of `machine.network`.

use std::collections::HashMap;

use super::checks;
use super::Ctx;
use crate::decode::push_index;
use crate::v1alpha1::{Config, Device, MachineType, Route, Vip};

/// Smallest and largest MTU accepted (IPv4 minimum reassembly size .. 16-bit maximum).
const MTU_RANGE: std::ops::RangeInclusive<u32> = 576..=65535;

pub(super) fn check(c: &Config, ctx: &mut Ctx<'_>) {
    let Some(n) = &c.machine.network else { return };
    if let Some(h) = n.hostname.as_deref().filter(|h| !checks::dns_name(h)) {
        ctx.error(
            ".machine.network.hostname",
            format!("{h:?} is not a valid hostname; use letters, digits, '-' and '.'"),
        );
    }
    for (i, ns) in n.nameservers.iter().flatten().enumerate() {
        if checks::ip(ns).is_none() {
            ctx.error(
                &push_index(".machine.network.nameservers", i),
                format!("{ns:?} is not an IP address"),
            );
        }
    }
    for (i, d) in n.search_domains.iter().flatten().enumerate() {
        if !checks::dns_name(d) {
            ctx.error(
                &push_index(".machine.network.searchDomains", i),
                format!("{d:?} is not a DNS domain"),
            );
        }
    }
    for (i, h) in n.extra_host_entries.iter().flatten().enumerate() {
        if checks::ip(&h.ip).is_none() {
            ctx.error(
                &format!("{}.ip", push_index(".machine.network.extraHostEntries", i)),
                format!("{:?} is not an IP address", h.ip),
            );
        }
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, dev) in n.interfaces.iter().flatten().enumerate() {
        let base = push_index(".machine.network.interfaces", i);
        if let Some(name) = dev.interface.as_deref() {
            if let Some(first) = seen.insert(name, i) {
                ctx.error(&format!("{base}.interface"), format!(
                    "interface {name:?} is already configured at .machine.network.interfaces[{first}]; merge the two entries"
                ));
            }
        }
        device(c, dev, &base, ctx);
    }
}

fn device(c: &Config, dev: &Device, base: &str, ctx: &mut Ctx<'_>) {
    match (&dev.interface, &dev.device_selector) {
        (None, None) => ctx.error(
            base,
            "needs \"interface\" (e.g. eth0) or \"deviceSelector\"",
        ),
        (Some(_), Some(_)) => ctx.error(
            base,
            "sets both \"interface\" and \"deviceSelector\"; keep one",
        ),
        _ => {}
    }
    if dev.cidr.is_some() && dev.addresses.is_some() {
        ctx.error(
            &format!("{base}.cidr"),
            "is deprecated and cannot be combined with \"addresses\"; move it into addresses",
        );
    }
    addresses(dev.addresses.as_deref(), dev.cidr.as_deref(), base, ctx);
    routes(dev.routes.as_deref(), base, ctx);
    mtu(dev.mtu, base, ctx);
    vip(c, dev.vip.as_ref(), base, ctx);
    for (j, vlan) in dev.vlans.iter().flatten().enumerate() {
        let vbase = push_index(&format!("{base}.vlans"), j);
        if !(1..=4094).contains(&vlan.vlan_id) {
            ctx.error(
                &format!("{vbase}.vlanId"),
                format!("{} is not a VLAN ID; use 1-4094", vlan.vlan_id),
            );
        }
        addresses(vlan.addresses.as_deref(), vlan.cidr.as_deref(), &vbase, ctx);
        routes(vlan.routes.as_deref(), &vbase, ctx);
        mtu(vlan.mtu, &vbase, ctx);
        vip(c, vlan.vip.as_ref(), &vbase, ctx);
    }
}

fn addresses(list: Option<&[String]>, cidr: Option<&str>, base: &str, ctx: &mut Ctx<'_>) {
    for (i, a) in list.into_iter().flatten().enumerate() {
        if checks::cidr_or_ip(a).is_none() {
            ctx.error(
                &push_index(&format!("{base}.addresses"), i),
                format!("{a:?} is not an address in CIDR form; use e.g. 192.168.2.10/24"),
            );
        }
    }
    if let Some(c) = cidr.filter(|c| checks::cidr_or_ip(c).is_none()) {
        ctx.error(
            &format!("{base}.cidr"),
            format!("{c:?} is not an address in CIDR form; use e.g. 192.168.2.10/24"),
        );
    }
}

fn routes(list: Option<&[Route]>, base: &str, ctx: &mut Ctx<'_>) {
    for (i, r) in list.into_iter().flatten().enumerate() {
        let rbase = push_index(&format!("{base}.routes"), i);
        let network = r.network.as_deref().unwrap_or("");
        let gateway = r.gateway.as_deref().unwrap_or("");
        if network.is_empty() && gateway.is_empty() {
            ctx.error(
                &rbase,
                "sets neither \"network\" nor \"gateway\"; set at least one",
            );
        }
        if !network.is_empty() && checks::cidr(network).is_none() {
            ctx.error(
                &format!("{rbase}.network"),
                format!("{network:?} is not a CIDR; use e.g. 0.0.0.0/0 or 10.0.0.0/8"),
            );
        }
        if !gateway.is_empty() && checks::ip(gateway).is_none() {
            ctx.error(
                &format!("{rbase}.gateway"),
                format!("{gateway:?} is not an IP address"),
            );
        }
        if let Some(s) = r
            .source
            .as_deref()
            .filter(|s| !s.is_empty() && checks::ip(s).is_none())
        {
            ctx.error(
                &format!("{rbase}.source"),
                format!("{s:?} is not an IP address"),
            );
        }
        mtu(r.mtu, &rbase, ctx);
    }
}

fn mtu(value: Option<u32>, base: &str, ctx: &mut Ctx<'_>) {
    if let Some(m) = value.filter(|m| *m != 0 && !MTU_RANGE.contains(m)) {
        ctx.error(
            &format!("{base}.mtu"),
            format!(
                "{m} is out of range; use {}-{}",
                MTU_RANGE.start(),
                MTU_RANGE.end()
            ),
        );
    }
}

fn vip(c: &Config, vip: Option<&Vip>, base: &str, ctx: &mut Ctx<'_>) {
    let Some(v) = vip else { return };
    let path = format!("{base}.vip.ip");
    match v.ip.as_deref() {
        Some(ip) if checks::ip(ip).is_some() => {}
        Some(ip) => ctx.error(&path, format!("{ip:?} is not an IP address")),
        None => ctx.error(&path, "is required when vip is set"),
    }
    if c.machine_type() == Some(MachineType::Worker) {
        ctx.error(
            &format!("{base}.vip"),
            "a shared virtual IP is only allowed on control-plane nodes; remove it",
        );
    }
}
