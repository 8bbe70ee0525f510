//! The fields Talos does NOT merge with the default rules (maps merge per key, lists append).
//!
//! Talos expresses these with `merge:"replace"` struct tags and custom `Merge` methods on
//! its config types; Basalt merges untyped YAML, so they are listed here, in one table.

/// How the value at a path is merged instead of the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// The patch value replaces the config value as a whole (no list append, no map merge).
    Replace,
    /// A list whose map items are matched by the first of these keys present in the patch
    /// item: a matching config item is merged with it, otherwise the item is appended.
    Keyed(&'static [&'static str]),
}

/// One table row: document kind (`v1alpha1` for the v1alpha1 document), field path and rule.
///
/// Path segments are map keys separated by `.`; `*` matches any map key and `[]` any list item.
struct Entry {
    kind: &'static str,
    path: &'static str,
    rule: Rule,
}

const fn entry(kind: &'static str, path: &'static str, rule: Rule) -> Entry {
    Entry { kind, path, rule }
}

use Rule::{Keyed, Replace};

/// Talos's merge exceptions (checked against siderolabs/talos `pkg/machinery/config/types`).
const RULES: &[Entry] = &[
    // v1alpha1 `merge:"replace"` fields.
    entry("v1alpha1", "cluster.network.podSubnets", Replace),
    entry("v1alpha1", "cluster.network.serviceSubnets", Replace),
    entry("v1alpha1", "cluster.apiServer.auditPolicy", Replace),
    // `meta.Args` (extraArgs): each argument's value replaces, a list value is not appended.
    entry("v1alpha1", "machine.kubelet.extraArgs.*", Replace),
    entry("v1alpha1", "cluster.apiServer.extraArgs.*", Replace),
    entry("v1alpha1", "cluster.controllerManager.extraArgs.*", Replace),
    entry("v1alpha1", "cluster.scheduler.extraArgs.*", Replace),
    entry("v1alpha1", "cluster.proxy.extraArgs.*", Replace),
    entry("v1alpha1", "cluster.etcd.extraArgs.*", Replace),
    // v1alpha1 lists with a custom Merge: items matched by key.
    entry(
        "v1alpha1",
        "machine.network.interfaces",
        Keyed(&["interface", "deviceSelector"]),
    ),
    entry(
        "v1alpha1",
        "machine.network.interfaces.[].vlans",
        Keyed(&["vlanId"]),
    ),
    entry(
        "v1alpha1",
        "cluster.apiServer.admissionControl",
        Keyed(&["name"]),
    ),
    // Companion documents.
    entry("KubeNetworkConfig", "podSubnets", Replace),
    entry("KubeNetworkConfig", "serviceSubnets", Replace),
    entry("KubeAuditPolicyConfig", "configuration", Replace),
    entry("KubeAuthenticationConfig", "configuration", Replace),
    entry("KubeCredentialProviderConfig", "configuration", Replace),
    entry("KubeStaticPodConfig", "pod", Replace),
    entry("CRIBaseRuntimeSpecConfig", "overrides", Replace),
    entry("BGPInstanceConfig", "advertise", Replace),
    entry("BGPInstanceConfig", "importRoutes", Replace),
    entry("BGPInstanceConfig", "neighbors", Replace),
    entry("NetworkRuleConfig", "ingress", Replace),
    entry("NetworkRuleConfig", "portSelector.ports", Replace),
    entry(
        "ExtensionServiceConfig",
        "configFiles",
        Keyed(&["mountPath"]),
    ),
];

/// The special rule for the field at `path` (map keys, `[]` for list items) of a `kind` document.
pub(crate) fn lookup(kind: &str, path: &[String]) -> Option<Rule> {
    RULES
        .iter()
        .find(|e| e.kind == kind && matches(e.path, path))
        .map(|e| e.rule)
}

fn matches(pattern: &str, path: &[String]) -> bool {
    let mut segments = pattern.split('.');
    let mut steps = path.iter();
    loop {
        match (segments.next(), steps.next()) {
            (None, None) => return true,
            (Some(seg), Some(step)) if seg == step || (seg == "*" && step != "[]") => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Vec<String> {
        text.split('.').map(str::to_string).collect()
    }

    #[test]
    fn finds_replace_and_keyed_fields() {
        assert_eq!(
            lookup("v1alpha1", &path("cluster.network.podSubnets")),
            Some(Replace)
        );
        assert_eq!(lookup("v1alpha1", &path("cluster.network")), None);
        assert_eq!(
            lookup("v1alpha1", &path("cluster.network.podSubnets.[]")),
            None
        );
        assert_eq!(
            lookup("v1alpha1", &path("machine.network.interfaces.[].vlans")),
            Some(Keyed(&["vlanId"]))
        );
        assert_eq!(
            lookup("KubeNetworkConfig", &path("podSubnets")),
            Some(Replace)
        );
        assert_eq!(lookup("Other", &path("podSubnets")), None);
    }

    #[test]
    fn star_matches_one_map_key() {
        assert_eq!(
            lookup("v1alpha1", &path("machine.kubelet.extraArgs.node-ip")),
            Some(Replace)
        );
        assert_eq!(lookup("v1alpha1", &path("machine.kubelet.extraArgs")), None);
        assert_eq!(
            lookup("v1alpha1", &path("machine.kubelet.extraArgs.[]")),
            None
        );
    }
}
