//! Checks of `cluster.*` (certificates aside).

use std::collections::HashSet;

use ipnet::IpNet;

use super::checks;
use super::Ctx;
use crate::decode::push_index;
use crate::v1alpha1::{Config, MachineType};

const CNI_NAMES: &[&str] = &["flannel", "custom", "none"];
const PROXY_MODES: &[&str] = &["iptables", "ipvs", "nftables"];

pub(super) fn check(c: &Config, ctx: &mut Ctx<'_>) {
    let cl = &c.cluster;
    match cl.control_plane.as_ref().map(|p| p.endpoint.as_str()) {
        None | Some("") => ctx.error(
            ".cluster.controlPlane.endpoint",
            "is required; use https://<host>:<port>",
        ),
        Some(e) if checks::http_url(e).is_none() => {
            ctx.error(
                ".cluster.controlPlane.endpoint",
                format!("{e:?} is not a URL; use https://<host>:<port>"),
            );
        }
        Some(_) => {}
    }
    if let Some(port) = cl
        .control_plane
        .as_ref()
        .and_then(|p| p.local_api_server_port)
    {
        if !(1..=65535).contains(&port) {
            ctx.error(
                ".cluster.controlPlane.localAPIServerPort",
                format!("{port} is not a TCP port; use 1-65535 (default 6443)"),
            );
        }
    }
    match cl.cluster_name.as_deref() {
        None | Some("") => ctx.error(".cluster.clusterName", "is required; use a short lowercase name such as \"demo\""),
        Some(name) if !checks::cluster_name(name) => ctx.error(".cluster.clusterName", format!(
            "{name:?} is not a valid cluster name; use lowercase letters, digits and '-' (at most 63 characters, starting and ending with a letter or digit)"
        )),
        Some(_) => {}
    }
    match cl.token.as_deref() {
        None | Some("") => ctx.error(".cluster.token", "is required; use the bootstrap token from the cluster's secrets bundle"),
        Some(t) if !checks::bootstrap_token(t) => ctx.error(".cluster.token",
            "is not a Kubernetes bootstrap token; it must look like \"abcdef.0123456789abcdef\" ([a-z0-9]{6}.[a-z0-9]{16})"),
        Some(_) => {}
    }
    secrets(c, ctx);
    network(c, ctx);
    components(c, ctx);
    manifests(c, ctx);
}

fn bytes32(value: Option<&str>, path: &str, ctx: &mut Ctx<'_>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        if checks::base64_any(v).map(|b| b.len()) != Some(32) {
            ctx.error(path, "must be the base64 of 32 random bytes; generate one with `head -c 32 /dev/urandom | base64`");
        }
    }
}

fn secrets(c: &Config, ctx: &mut Ctx<'_>) {
    let cl = &c.cluster;
    bytes32(cl.id.as_deref(), ".cluster.id", ctx);
    bytes32(cl.secret.as_deref(), ".cluster.secret", ctx);
    bytes32(
        cl.secretbox_encryption_secret.as_deref(),
        ".cluster.secretboxEncryptionSecret",
        ctx,
    );
    bytes32(
        cl.aescbc_encryption_secret.as_deref(),
        ".cluster.aescbcEncryptionSecret",
        ctx,
    );
    let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    if c.machine_type() == Some(MachineType::ControlPlane)
        && !has(&cl.secretbox_encryption_secret)
        && !has(&cl.aescbc_encryption_secret)
    {
        ctx.error(".cluster.secretboxEncryptionSecret",
            "is required on a control-plane node (or aescbcEncryptionSecret) to encrypt Kubernetes secrets at rest");
    }
}

fn network(c: &Config, ctx: &mut Ctx<'_>) {
    let Some(n) = &c.cluster.network else { return };
    if let Some(d) = n.dns_domain.as_deref().filter(|d| !checks::dns_name(d)) {
        ctx.error(
            ".cluster.network.dnsDomain",
            format!("{d:?} is not a valid DNS domain; use e.g. cluster.local"),
        );
    }
    let mut all: Vec<(String, IpNet)> = Vec::new();
    for (field, list) in [
        ("podSubnets", &n.pod_subnets),
        ("serviceSubnets", &n.service_subnets),
    ] {
        let base = format!(".cluster.network.{field}");
        let mut families = HashSet::new();
        for (i, s) in list.iter().flatten().enumerate() {
            let path = push_index(&base, i);
            let Some(net) = checks::cidr(s) else {
                ctx.error(
                    &path,
                    format!("{s:?} is not a CIDR; use e.g. 10.244.0.0/16"),
                );
                continue;
            };
            let family = if net.addr().is_ipv4() { "IPv4" } else { "IPv6" };
            if !families.insert(family) {
                ctx.error(
                    &path,
                    format!("a second {family} subnet; use at most one IPv4 and one IPv6 subnet"),
                );
            }
            if let Some((other, o)) = all
                .iter()
                .find(|(_, o)| o.contains(&net.network()) || net.contains(&o.network()))
            {
                ctx.error(
                    &path,
                    format!("{s} overlaps {other} ({o}); pod and service subnets must not overlap"),
                );
            }
            all.push((path, net));
        }
    }
    if let Some(cni) = &n.cni {
        let name = cni.name.as_deref().unwrap_or("");
        let urls = cni.urls.as_deref().unwrap_or(&[]);
        if !CNI_NAMES.contains(&name) {
            ctx.error(
                ".cluster.network.cni.name",
                format!(
                    "{name:?} is not a CNI choice; use one of: {}",
                    CNI_NAMES.join(", ")
                ),
            );
        } else if name == "custom" && urls.is_empty() {
            ctx.error(
                ".cluster.network.cni.urls",
                "is required for the \"custom\" CNI; list the manifest URLs",
            );
        } else if name != "custom" && !urls.is_empty() {
            ctx.error(
                ".cluster.network.cni.urls",
                format!("must be empty for the {name:?} CNI; use name: custom"),
            );
        }
        for (i, u) in urls.iter().enumerate() {
            if checks::http_url(u).is_none() {
                ctx.error(
                    &push_index(".cluster.network.cni.urls", i),
                    format!("{u:?} is not an http(s) URL"),
                );
            }
        }
    }
}

fn components(c: &Config, ctx: &mut Ctx<'_>) {
    let cl = &c.cluster;
    for (i, san) in cl
        .api_server
        .iter()
        .flat_map(|a| a.cert_sans.iter().flatten())
        .enumerate()
    {
        if !checks::san(san) {
            ctx.error(
                &push_index(".cluster.apiServer.certSANs", i),
                format!("{san:?} is neither an IP address nor a DNS name"),
            );
        }
    }
    for (i, p) in cl
        .api_server
        .iter()
        .flat_map(|a| a.admission_control.iter().flatten())
        .enumerate()
    {
        if p.name.is_empty() {
            ctx.error(
                &format!(
                    "{}.name",
                    push_index(".cluster.apiServer.admissionControl", i)
                ),
                "is required; name the admission plugin, e.g. PodSecurity",
            );
        }
    }
    if let Some(mode) = cl
        .proxy
        .as_ref()
        .and_then(|p| p.mode.as_deref())
        .filter(|m| !PROXY_MODES.contains(m))
    {
        ctx.error(
            ".cluster.proxy.mode",
            format!(
                "{mode:?} is not a kube-proxy mode; use one of: {}",
                PROXY_MODES.join(", ")
            ),
        );
    }
    let etcd = cl.etcd.as_ref();
    for (field, list) in [
        (
            "advertisedSubnets",
            etcd.and_then(|e| e.advertised_subnets.as_ref()),
        ),
        (
            "listenSubnets",
            etcd.and_then(|e| e.listen_subnets.as_ref()),
        ),
    ] {
        for (i, s) in list.into_iter().flatten().enumerate() {
            if checks::subnet_filter(s).is_none() {
                ctx.error(
                    &push_index(&format!(".cluster.etcd.{field}"), i),
                    format!("{s:?} is not a CIDR; use e.g. 10.0.0.0/8 (prefix with ! to exclude)"),
                );
            }
        }
    }
    if let Some(d) = &cl.discovery {
        let service = d.registries.as_ref().and_then(|r| r.service.as_ref());
        if let Some(e) = service
            .and_then(|s| s.endpoint.as_deref())
            .filter(|e| checks::http_url(e).is_none())
        {
            ctx.error(
                ".cluster.discovery.registries.service.endpoint",
                format!("{e:?} is not an http(s) URL"),
            );
        }
        if d.enabled == Some(true) {
            for (field, value) in [("id", &cl.id), ("secret", &cl.secret)] {
                if value.as_deref().unwrap_or("").is_empty() {
                    ctx.error(
                        &format!(".cluster.{field}"),
                        "is required when cluster.discovery is enabled",
                    );
                }
            }
        }
    }
    if let Some(l) = cl
        .admin_kubeconfig
        .as_ref()
        .and_then(|a| a.cert_lifetime.as_deref())
        .filter(|l| !checks::go_duration(l))
    {
        ctx.error(
            ".cluster.adminKubeconfig.certLifetime",
            format!("{l:?} is not a duration; use e.g. 8760h0m0s"),
        );
    }
}

fn manifests(c: &Config, ctx: &mut Ctx<'_>) {
    let cl = &c.cluster;
    for (i, u) in cl.extra_manifests.iter().flatten().enumerate() {
        if checks::http_url(u).is_none() {
            ctx.error(
                &push_index(".cluster.extraManifests", i),
                format!("{u:?} is not an http(s) URL; use e.g. https://example.com/manifest.yaml"),
            );
        }
    }
    let mut names = HashSet::new();
    for (i, m) in cl.inline_manifests.iter().flatten().enumerate() {
        let path = format!("{}.name", push_index(".cluster.inlineManifests", i));
        if m.name.trim().is_empty() {
            ctx.error(
                &path,
                "is required; give each inline manifest a unique name",
            );
        } else if !names.insert(m.name.as_str()) {
            ctx.error(
                &path,
                format!(
                    "{:?} is used by another inline manifest; names must be unique",
                    m.name
                ),
            );
        }
    }
}
