//! From `machine.network.interfaces[]` to a plan of links to configure, plus notices for
//! settings Basalt does not apply yet (VIP, VLANs, device selectors, dummy links). `dhcp` is
//! handled by [`super::dhcp`] (first NIC, metal mode).

use std::net::IpAddr;

use basalt_config::v1alpha1::{Config, Device, Route};
use ipnet::IpNet;

/// What to configure on one link, in this order: MTU, addresses, up, routes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkPlan {
    /// Interface name, e.g. `eth0`.
    pub name: String,
    /// Link MTU.
    pub mtu: Option<u32>,
    /// Static addresses with their prefix length.
    pub addresses: Vec<IpNet>,
    /// Static routes.
    pub routes: Vec<RoutePlan>,
}

/// One static route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutePlan {
    /// Destination network (host bits cleared); `None` is the default route.
    pub destination: Option<IpNet>,
    /// Next hop; `None` is a link-scope route.
    pub gateway: Option<IpAddr>,
    /// Preferred source address.
    pub source: Option<IpAddr>,
    /// Metric (route priority).
    pub metric: Option<u32>,
    /// Route MTU.
    pub mtu: Option<u32>,
}

/// The links to configure and what is left out (one readable line each).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Links with static settings.
    pub links: Vec<LinkPlan>,
    /// Settings that are not applied, and why.
    pub notices: Vec<String>,
}

/// The plan for the `v1alpha1` document `config`.
pub fn plan(config: &Config) -> Plan {
    let mut out = Plan::default();
    let devices = config
        .machine
        .network
        .as_ref()
        .and_then(|n| n.interfaces.as_ref());
    for (i, dev) in devices.into_iter().flatten().enumerate() {
        let path = format!(".machine.network.interfaces[{i}]");
        if let Some(link) = device(dev, &path, &mut out.notices) {
            out.links.push(link);
        }
    }
    out
}

fn device(dev: &Device, path: &str, notices: &mut Vec<String>) -> Option<LinkPlan> {
    let Some(name) = dev.interface.clone() else {
        notices.push(format!(
            "{path}: deviceSelector is not supported yet; name the link with \"interface\" instead"
        ));
        return None;
    };
    if dev.ignore == Some(true) {
        notices.push(format!(
            "{path} ({name}): ignore is set; leaving the link alone"
        ));
        return None;
    }
    let unsupported = [
        (dev.vip.is_some(), "a shared VIP"),
        (dev.vlans.as_ref().is_some_and(|v| !v.is_empty()), "VLANs"),
        (dev.dummy == Some(true), "dummy links"),
    ];
    for (_, what) in unsupported.iter().filter(|(set, _)| *set) {
        notices.push(format!(
            "{path} ({name}): {what} is not supported yet; the setting is ignored (use static addresses and routes)"
        ));
    }
    let mut addresses = Vec::new();
    let listed = dev.addresses.iter().flatten().chain(dev.cidr.iter());
    for (j, text) in listed.enumerate() {
        match text.parse::<IpNet>() {
            Ok(net) => addresses.push(net),
            Err(_) => notices.push(format!(
                "{path}.addresses[{j}]: {text:?} is not an address in CIDR form (e.g. 10.5.0.2/24); skipped"
            )),
        }
    }
    let mut routes = Vec::new();
    for (j, r) in dev.routes.iter().flatten().enumerate() {
        match route(r) {
            Ok(rp) => routes.push(rp),
            Err(why) => notices.push(format!("{path}.routes[{j}]: {why}; skipped")),
        }
    }
    if addresses.is_empty() && routes.is_empty() && dev.mtu.is_none() {
        return None;
    }
    Some(LinkPlan {
        name,
        mtu: dev.mtu,
        addresses,
        routes,
    })
}

fn route(r: &Route) -> Result<RoutePlan, String> {
    let destination = match r.network.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            let net: IpNet = text
                .parse()
                .map_err(|_| format!("network {text:?} is not a CIDR (e.g. 192.168.0.0/16)"))?;
            (net.prefix_len() > 0).then(|| net.trunc())
        }
    };
    let ip = |field: &str, v: &Option<String>| -> Result<Option<IpAddr>, String> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| format!("{field} {text:?} is not an IP address")),
        }
    };
    Ok(RoutePlan {
        destination,
        gateway: ip("gateway", &r.gateway)?,
        source: ip("source", &r.source)?,
        metric: r.metric,
        mtu: r.mtu,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn config(network_yaml: &str) -> Config {
        let yaml = format!(
            "version: v1alpha1\nmachine:\n  type: worker\n  network:\n{}\ncluster: {{}}\n",
            network_yaml
                .lines()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        serde_yaml::from_str(&yaml).unwrap()
    }

    #[test]
    fn static_interface() {
        let p = plan(&config(
            "interfaces:\n- interface: eth0\n  mtu: 1400\n  addresses: [10.5.0.2/24]\n  routes:\n  - {network: 0.0.0.0/0, gateway: 10.5.0.1, metric: 1024}\n  - {network: 192.168.7.9/16}",
        ));
        assert!(p.notices.is_empty(), "{:?}", p.notices);
        assert_eq!(p.links.len(), 1);
        let l = &p.links[0];
        assert_eq!(l.name, "eth0");
        assert_eq!(l.mtu, Some(1400));
        assert_eq!(l.addresses, vec!["10.5.0.2/24".parse::<IpNet>().unwrap()]);
        assert_eq!(l.routes[0].destination, None);
        assert_eq!(l.routes[0].gateway, Some("10.5.0.1".parse().unwrap()));
        assert_eq!(l.routes[0].metric, Some(1024));
        assert_eq!(
            l.routes[1].destination,
            Some("192.168.0.0/16".parse().unwrap())
        );
    }

    #[test]
    fn unsupported_settings_are_reported() {
        let p = plan(&config(
            "interfaces:\n- interface: eth1\n  dhcp: true\n  vip: {ip: 10.5.0.50}\n- deviceSelector: {driver: virtio*}\n  dhcp: true\n- interface: eth2\n  ignore: true\n  addresses: [10.6.0.2/24]",
        ));
        assert!(p.links.is_empty(), "eth1 has nothing static: {:?}", p.links);
        let all = p.notices.join("\n");
        assert!(!all.contains("DHCP"), "reported by network::dhcp: {all}");
        assert!(all.contains("a shared VIP is not supported yet"), "{all}");
        assert!(
            all.contains("interfaces[1]: deviceSelector is not supported yet"),
            "{all}"
        );
        assert!(all.contains("interfaces[2] (eth2): ignore is set"), "{all}");
    }

    #[test]
    fn deprecated_cidr_and_bad_values() {
        let p = plan(&config(
            "interfaces:\n- interface: eth0\n  cidr: 10.5.0.3/24\n  routes:\n  - {network: nonsense, gateway: 10.5.0.1}",
        ));
        assert_eq!(
            p.links[0].addresses,
            vec!["10.5.0.3/24".parse::<IpNet>().unwrap()]
        );
        assert!(p.links[0].routes.is_empty());
        assert!(p.notices[0].contains(".routes[0]: network \"nonsense\" is not a CIDR"));
    }

    #[test]
    fn no_network_section() {
        let c: Config =
            serde_yaml::from_str("version: v1alpha1\nmachine: {type: worker}\ncluster: {}\n")
                .unwrap();
        assert_eq!(plan(&c), Plan::default());
    }
}
