//! The address etcd advertises: the node's first non-loopback IPv4 address, limited to
//! `cluster.etcd.advertisedSubnets` when set.

use std::net::IpAddr;

use ipnet::IpNet;

use super::error::EtcdServiceError;

/// Parses `cluster.etcd.advertisedSubnets` (CIDRs; a `!` prefix excludes, as in Talos).
pub fn parse_subnets(subnets: &[String]) -> Result<Vec<(bool, IpNet)>, EtcdServiceError> {
    subnets
        .iter()
        .map(|s| {
            let (exclude, text) = match s.trim().strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, s.trim()),
            };
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map(|net| (exclude, net))
                .map_err(|e| EtcdServiceError::Config {
                    field: "cluster.etcd.advertisedSubnets",
                    reason: format!("{s:?} is not a CIDR ({e}); write e.g. 10.5.0.0/24"),
                })
        })
        .collect()
}

/// The address to advertise among `addrs` (in interface order): the first IPv4 that is not
/// loopback, link-local or unspecified and, when `subnets` has include entries, lies in one
/// of them and in no excluded one.
pub fn choose(addrs: &[IpAddr], subnets: &[(bool, IpNet)]) -> Option<IpAddr> {
    let includes: Vec<&IpNet> = subnets.iter().filter(|(x, _)| !x).map(|(_, n)| n).collect();
    addrs.iter().copied().find(|ip| {
        let IpAddr::V4(v4) = ip else { return false };
        if v4.is_loopback() || v4.is_link_local() || v4.is_unspecified() {
            return false;
        }
        if subnets.iter().any(|(x, n)| *x && n.contains(ip)) {
            return false;
        }
        includes.is_empty() || includes.iter().any(|n| n.contains(ip))
    })
}

/// Every address of every interface that is up, in the kernel's order.
pub fn local_addresses() -> Vec<IpAddr> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addrs
        .filter(|a| a.flags.contains(nix::net::if_::InterfaceFlags::IFF_UP))
        .filter_map(|a| {
            let addr = a.address?;
            if let Some(v4) = addr.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                addr.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn first_non_loopback_ipv4_wins() {
        let addrs = ips(&[
            "127.0.0.1",
            "fe80::1",
            "169.254.1.1",
            "10.5.0.3",
            "192.168.1.2",
        ]);
        assert_eq!(choose(&addrs, &[]), Some("10.5.0.3".parse().unwrap()));
        assert_eq!(choose(&ips(&["127.0.0.1", "::1"]), &[]), None);
    }

    #[test]
    fn advertised_subnets_filter() {
        let addrs = ips(&["10.5.0.3", "192.168.1.2"]);
        let only = parse_subnets(&["192.168.0.0/16".into()]).unwrap();
        assert_eq!(choose(&addrs, &only), Some("192.168.1.2".parse().unwrap()));
        let not = parse_subnets(&["!10.5.0.0/24".into()]).unwrap();
        assert_eq!(choose(&addrs, &not), Some("192.168.1.2".parse().unwrap()));
        let err = parse_subnets(&["ten/8".into()]).unwrap_err().to_string();
        assert!(err.contains("cluster.etcd.advertisedSubnets"), "{err}");
    }
}
