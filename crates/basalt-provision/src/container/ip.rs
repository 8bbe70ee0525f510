//! The host side of a cluster network through iproute2 (`ip`): bridge, network namespaces,
//! veth pairs, and the overlap check against routes and addresses in use.

use std::process::Command;

use ipnet::Ipv4Net;
use serde_json::Value;

use super::ContainerError;

/// Runs `ip ARGS…`; returns stdout.
pub fn ip(args: &[&str]) -> Result<String, ContainerError> {
    run(Command::new("ip").args(args))
}

/// Runs a host command; a failure carries its stderr (or why it could not start).
pub fn run(cmd: &mut Command) -> Result<String, ContainerError> {
    let shown = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = cmd.output().map_err(|e| ContainerError::Command {
        command: shown.clone(),
        detail: format!("cannot start it ({e}); install iproute2 and squashfs-tools"),
    })?;
    if !out.status.success() {
        return Err(ContainerError::Command {
            command: shown,
            detail: format!(
                "{} ({})",
                String::from_utf8_lossy(&out.stderr).trim(),
                out.status
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether a link named `name` exists in the host namespace.
pub fn link_exists(name: &str) -> bool {
    std::path::Path::new("/sys/class/net").join(name).exists()
}

/// Whether a named network namespace exists.
pub fn netns_exists(name: &str) -> bool {
    std::path::Path::new("/run/netns").join(name).exists()
}

/// The first IPv4 route or address of the host that overlaps `cidr`, as (network, kind).
pub fn overlap(cidr: Ipv4Net) -> Result<Option<(String, &'static str)>, ContainerError> {
    let routes = ip(&["-j", "-4", "route", "show", "table", "all"])?;
    if let Some(hit) = overlapping_routes(&routes, cidr) {
        return Ok(Some((hit, "route")));
    }
    let addrs = ip(&["-j", "-4", "addr", "show"])?;
    Ok(overlapping_addresses(&addrs, cidr).map(|a| (a, "address")))
}

fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// `dst` of `ip -j route` entries overlapping `cidr` (`default` is ignored).
fn overlapping_routes(json: &str, cidr: Ipv4Net) -> Option<String> {
    let routes: Vec<Value> = serde_json::from_str(json).ok()?;
    routes.iter().find_map(|r| {
        let dst = r.get("dst")?.as_str()?;
        let net = parse_net(dst)?;
        overlaps(net, cidr).then(|| dst.to_string())
    })
}

/// `local/prefixlen` of `ip -j addr` entries whose network overlaps `cidr`.
fn overlapping_addresses(json: &str, cidr: Ipv4Net) -> Option<String> {
    let links: Vec<Value> = serde_json::from_str(json).ok()?;
    links.iter().find_map(|link| {
        link.get("addr_info")?.as_array()?.iter().find_map(|a| {
            let local = a.get("local")?.as_str()?;
            let prefix = a.get("prefixlen")?.as_u64()?;
            let text = format!("{local}/{prefix}");
            let net = parse_net(&text)?.trunc();
            overlaps(net, cidr).then_some(text)
        })
    })
}

fn parse_net(text: &str) -> Option<Ipv4Net> {
    if text == "default" {
        return None;
    }
    text.parse::<Ipv4Net>()
        .ok()
        .or_else(|| text.parse::<std::net::Ipv4Addr>().ok().map(Ipv4Net::from))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn finds_overlapping_routes_and_addresses() {
        let cidr: Ipv4Net = "10.5.0.0/24".parse().unwrap();
        let routes = r#"[{"dst":"default","gateway":"10.0.0.1"},{"dst":"10.0.0.0/8","dev":"eth0"},{"type":"local","dst":"127.0.0.1","dev":"lo"}]"#;
        assert_eq!(
            overlapping_routes(routes, cidr).as_deref(),
            Some("10.0.0.0/8")
        );
        let routes = r#"[{"dst":"default"},{"dst":"192.168.1.0/24"},{"dst":"10.5.0.7"}]"#;
        assert_eq!(
            overlapping_routes(routes, cidr).as_deref(),
            Some("10.5.0.7")
        );
        let free = r#"[{"dst":"default"},{"dst":"192.168.1.0/24"}]"#;
        assert_eq!(overlapping_routes(free, cidr), None);
        let addrs = r#"[{"ifname":"lo","addr_info":[{"local":"127.0.0.1","prefixlen":8}]},{"ifname":"x","addr_info":[{"local":"10.5.0.9","prefixlen":16}]}]"#;
        assert_eq!(
            overlapping_addresses(addrs, cidr).as_deref(),
            Some("10.5.0.9/16")
        );
    }
}
