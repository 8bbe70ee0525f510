//! Checks of `version` and `machine.*` (network aside).

use super::checks;
use super::Ctx;
use super::Mode;
use crate::decode::{push_index, push_key};
use crate::v1alpha1::{Config, MachineType, StringMap};

const FILE_OPS: &[&str] = &["create", "append", "overwrite"];
const CRI_CUSTOMIZATION: &str = "/etc/cri/conf.d/20-customization.part";
const API_ROLES: &[&str] = &[
    "os:admin",
    "os:operator",
    "os:reader",
    "os:etcd:backup",
    "os:impersonator",
];
const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

pub(super) fn check(c: &Config, ctx: &mut Ctx<'_>) {
    if c.version != "v1alpha1" {
        ctx.error(
            ".version",
            format!(
                "{:?} is not a supported config version; use \"v1alpha1\"",
                c.version
            ),
        );
    }
    let m = &c.machine;
    match (m.machine_type.as_str(), c.machine_type()) {
        ("", _) => ctx.error(".machine.type", "is required; use \"controlplane\" or \"worker\""),
        (t, None) => ctx.error(".machine.type", format!(
            "{t:?} is not a machine type; use \"controlplane\" or \"worker\" (legacy \"init\" and \"join\" are also accepted)"
        )),
        _ => {}
    }
    if m.token.is_empty() {
        ctx.error(
            ".machine.token",
            "is required; use the machine token from the cluster's secrets bundle",
        );
    } else if m.token.len() > 256 || !m.token.chars().all(|c| c.is_ascii_graphic()) {
        ctx.error(
            ".machine.token",
            "must be 1-256 printable characters without spaces, like \"abcdef.0123456789abcdef\"",
        );
    }
    for (i, san) in m.cert_sans.iter().flatten().enumerate() {
        if !checks::san(san) {
            ctx.error(
                &push_index(".machine.certSANs", i),
                format!("{san:?} is neither an IP address nor a DNS name"),
            );
        }
    }
    kubelet(c, ctx);
    install(c, ctx);
    files(c, ctx);
    kernel_keys(m.sysctls.as_ref(), ".machine.sysctls", "sysctl", ctx);
    kernel_keys(m.sysfs.as_ref(), ".machine.sysfs", "sysfs", ctx);
    features(c, ctx);
    misc(c, ctx);
}

fn kubelet(c: &Config, ctx: &mut Ctx<'_>) {
    let Some(k) = &c.machine.kubelet else { return };
    for (i, dns) in k.cluster_dns.iter().flatten().enumerate() {
        if checks::ip(dns).is_none() {
            ctx.error(
                &push_index(".machine.kubelet.clusterDNS", i),
                format!("{dns:?} is not an IP address"),
            );
        }
    }
    let subnets = k.node_ip.as_ref().and_then(|n| n.valid_subnets.as_ref());
    for (i, s) in subnets.into_iter().flatten().enumerate() {
        if checks::subnet_filter(s).is_none() {
            ctx.error(
                &push_index(".machine.kubelet.nodeIP.validSubnets", i),
                format!("{s:?} is not a CIDR; use e.g. 10.0.0.0/8 (prefix with ! to exclude)"),
            );
        }
    }
    for (i, mount) in k.extra_mounts.iter().flatten().enumerate() {
        if !mount.destination.starts_with('/') {
            ctx.error(
                &format!(
                    "{}.destination",
                    push_index(".machine.kubelet.extraMounts", i)
                ),
                format!(
                    "{:?} is not an absolute path; start it with /",
                    mount.destination
                ),
            );
        }
    }
}

fn install(c: &Config, ctx: &mut Ctx<'_>) {
    let inst = c.machine.install.as_ref();
    match ctx.mode {
        Mode::Metal => {
            let has_disk = inst.is_some_and(|i| {
                i.disk.as_deref().is_some_and(|d| !d.is_empty()) || i.disk_selector.is_some()
            });
            if !has_disk {
                ctx.error(".machine.install", "metal mode needs an install target; set machine.install.disk (e.g. /dev/sda) or machine.install.diskSelector");
            }
            if let Some(disk) = inst
                .and_then(|i| i.disk.as_deref())
                .filter(|d| !d.is_empty() && !d.starts_with("/dev/"))
            {
                ctx.error(
                    ".machine.install.disk",
                    format!("{disk:?} is not a device path; use e.g. /dev/sda"),
                );
            }
        }
        Mode::Container => {
            if inst.is_some() {
                ctx.warn(
                    ".machine.install",
                    "is ignored in container mode (nothing is installed)",
                );
            }
        }
    }
}

fn files(c: &Config, ctx: &mut Ctx<'_>) {
    for (i, f) in c.machine.files.iter().flatten().enumerate() {
        let base = push_index(".machine.files", i);
        if !FILE_OPS.contains(&f.op.as_str()) {
            ctx.error(
                &format!("{base}.op"),
                format!(
                    "{:?} is not a file operation; use one of: create, append, overwrite",
                    f.op
                ),
            );
        }
        let path = f.path.as_str();
        if !path.starts_with('/') || path.split('/').any(|p| p == ".." || p == ".") {
            ctx.error(
                &format!("{base}.path"),
                format!(
                    "{path:?} is not a normalized absolute path; use e.g. /var/etc/example.conf"
                ),
            );
        } else if ctx.mode == Mode::Metal
            && !(path.starts_with("/var/") || path == CRI_CUSTOMIZATION)
        {
            ctx.error(&format!("{base}.path"), format!(
                "{path:?} is outside /var; on metal only files under /var (and {CRI_CUSTOMIZATION}) can be written"
            ));
        }
        if f.permissions.0 > 0o7777 {
            ctx.error(
                &format!("{base}.permissions"),
                "is not a file mode; use an octal mode such as 0o644",
            );
        }
    }
}

fn kernel_keys(map: Option<&StringMap>, base: &str, what: &str, ctx: &mut Ctx<'_>) {
    for key in map.iter().flat_map(|m| m.0.keys()) {
        if !checks::kernel_key(key) {
            ctx.error(&push_key(base, key), format!(
                "{key:?} is not a valid {what} name; use dotted or slashed names such as net.ipv4.ip_forward"
            ));
        }
    }
}

fn features(c: &Config, ctx: &mut Ctx<'_>) {
    let f = c.machine.features.as_ref();
    if let Some(port) = f.and_then(|f| f.kube_prism.as_ref()).and_then(|k| k.port) {
        if !(1..=65535).contains(&port) {
            ctx.error(
                ".machine.features.kubePrism.port",
                format!("{port} is not a TCP port; use 1-65535 (Talos default 7445)"),
            );
        }
    }
    if let Some(access) = f.and_then(|f| f.kubernetes_talos_api_access.as_ref()) {
        if access.enabled == Some(true) && c.machine_type() == Some(MachineType::Worker) {
            ctx.error(
                ".machine.features.kubernetesTalosAPIAccess.enabled",
                "can only be enabled on control-plane nodes",
            );
        }
        for (i, role) in access.allowed_roles.iter().flatten().enumerate() {
            if !API_ROLES.contains(&role.as_str()) {
                ctx.error(
                    &push_index(".machine.features.kubernetesTalosAPIAccess.allowedRoles", i),
                    format!(
                        "{role:?} is not a role; use one of: {}",
                        API_ROLES.join(", ")
                    ),
                );
            }
        }
    }
    if ctx.mode == Mode::Container {
        let dns = f.and_then(|f| f.host_dns.as_ref());
        if dns.and_then(|d| d.enabled) != Some(true) {
            ctx.error(
                ".machine.features.hostDNS.enabled",
                "must be true in container mode (DNS is passed through the host resolver)",
            );
        }
        if dns.and_then(|d| d.forward_kube_dns_to_host) != Some(true) {
            ctx.error(
                ".machine.features.hostDNS.forwardKubeDNSToHost",
                "must be true in container mode (CoreDNS forwards to the host resolver)",
            );
        }
    }
}

fn misc(c: &Config, ctx: &mut Ctx<'_>) {
    let m = &c.machine;
    if let Some(t) = m.time.as_ref() {
        if let Some(timeout) = t
            .boot_timeout
            .as_deref()
            .filter(|d| !checks::go_duration(d))
        {
            ctx.error(
                ".machine.time.bootTimeout",
                format!("{timeout:?} is not a duration; use e.g. 2m0s"),
            );
        }
        for (i, s) in t.servers.iter().flatten().enumerate() {
            if checks::ip(s).is_none() && !checks::dns_name(s) && !s.starts_with("/dev/") {
                ctx.error(
                    &push_index(".machine.time.servers", i),
                    format!("{s:?} is neither an IP address nor a host name"),
                );
            }
        }
    }
    for (key, value) in m.node_taints.iter().flat_map(|t| t.0.iter()) {
        let effect = value.rsplit_once(':').map_or(value.as_str(), |(_, e)| e);
        if !TAINT_EFFECTS.contains(&effect) {
            ctx.error(
                &push_key(".machine.nodeTaints", key),
                format!(
                    "{value:?} has no valid effect; write value:Effect with Effect one of: {}",
                    TAINT_EFFECTS.join(", ")
                ),
            );
        }
    }
    for (host, mirror) in m.registries.iter().flat_map(|r| r.mirrors.iter().flatten()) {
        for (i, e) in mirror.endpoints.iter().enumerate() {
            if checks::http_url(e).is_none() {
                let path = push_index(
                    &format!(
                        "{}.endpoints",
                        push_key(".machine.registries.mirrors", host)
                    ),
                    i,
                );
                ctx.error(
                    &path,
                    format!("{e:?} is not an http(s) URL; use e.g. https://mirror.example.com"),
                );
            }
        }
    }
    for (i, d) in m
        .logging
        .iter()
        .flat_map(|l| l.destinations.iter())
        .enumerate()
    {
        let base = push_index(".machine.logging.destinations", i);
        let ok = url::Url::parse(&d.endpoint)
            .is_ok_and(|u| matches!(u.scheme(), "tcp" | "udp") && u.port().is_some());
        if !ok {
            ctx.error(
                &format!("{base}.endpoint"),
                format!(
                    "{:?} is not a log endpoint; use tcp://host:port or udp://host:port",
                    d.endpoint
                ),
            );
        }
        if d.format != "json_lines" {
            ctx.error(
                &format!("{base}.format"),
                format!("{:?} is not a log format; use \"json_lines\"", d.format),
            );
        }
    }
    for (i, module) in m
        .kernel
        .iter()
        .flat_map(|k| k.modules.iter().flatten())
        .enumerate()
    {
        if module.name.is_empty() || module.name.contains(['/', ' ']) {
            ctx.error(
                &format!("{}.name", push_index(".machine.kernel.modules", i)),
                format!("{:?} is not a kernel module name", module.name),
            );
        }
    }
}
