//! Which fields a new config changes, and which of those need a reboot.
//!
//! [`LIVE_APPLY`] is the ONE allow-list of changes applied without a reboot. It follows
//! Talos's `CanApplyImmediate` (internal/app/machined/pkg/runtime/v1alpha1): every change
//! under one of these paths is applied live by republishing the config (controllers and apid
//! watch it); any other change needs a reboot.

use basalt_config::document::Document;
use basalt_config::MachineConfig;
use serde_json::Value;

/// Paths (and whole document kinds) whose changes apply without a reboot.
pub const LIVE_APPLY: &[&str] = &[
    ".debug",
    ".cluster",
    ".machine.ca",
    ".machine.acceptedCAs",
    ".machine.time",
    ".machine.certSANs",
    ".machine.install",
    ".machine.network",
    ".machine.sysfs",
    ".machine.sysctls",
    ".machine.logging",
    ".machine.controlPlane",
    ".machine.kubelet",
    ".machine.kernel",
    ".machine.registries",
    ".machine.pods",
    ".machine.seccompProfiles",
    ".machine.nodeAnnotations",
    ".machine.nodeLabels",
    ".machine.nodeTaints",
    ".machine.features.kubernetesTalosAPIAccess",
    ".machine.features.kubePrism",
    ".machine.features.hostDNS",
    ".machine.features.imageCache",
    ".machine.features.nodeAddressSortAlgorithm",
    // companion documents are reconciled by their controllers
    "TrustedRootsConfig",
    "KmsgLogConfig",
    "NetworkDefaultActionConfig",
    "NetworkRuleConfig",
];

/// What a new config changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Every changed path (v1alpha1 fields as `.machine.x.y`; other documents by kind).
    pub changed: Vec<String>,
    /// The changed paths not covered by [`LIVE_APPLY`].
    pub needs_reboot: Vec<String>,
}

/// Compares `old` and `new`.
pub fn plan(old: &MachineConfig, new: &MachineConfig) -> Plan {
    let mut changed = Vec::new();
    let old_v1 = v1alpha1_json(old);
    let new_v1 = v1alpha1_json(new);
    diff_values("", &old_v1, &new_v1, &mut changed);
    for kind in companion_kinds(old, new) {
        if companions(old, &kind) != companions(new, &kind) {
            changed.push(kind);
        }
    }
    let needs_reboot = changed.iter().filter(|p| !is_live(p)).cloned().collect();
    Plan {
        changed,
        needs_reboot,
    }
}

/// Whether a change at `path` applies without a reboot.
pub fn is_live(path: &str) -> bool {
    LIVE_APPLY.iter().any(|entry| {
        path == *entry
            || path
                .strip_prefix(entry)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
    })
}

fn v1alpha1_json(config: &MachineConfig) -> Value {
    config
        .v1alpha1()
        .and_then(|c| serde_json::to_value(c).ok())
        .unwrap_or(Value::Null)
}

fn companion_kinds(a: &MachineConfig, b: &MachineConfig) -> Vec<String> {
    let mut kinds: Vec<String> = a
        .documents
        .iter()
        .chain(&b.documents)
        .filter(|d| !matches!(d, Document::V1Alpha1(_)))
        .map(|d| d.kind_name().to_string())
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

fn companions<'a>(config: &'a MachineConfig, kind: &str) -> Vec<&'a Document> {
    config
        .documents
        .iter()
        .filter(|d| d.kind_name() == kind)
        .collect()
}

/// Records the paths where `a` and `b` differ: objects are compared key by key, anything
/// else (lists, scalars) as a whole.
fn diff_values(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let null = Value::Null;
                let (va, vb) = (x.get(key).unwrap_or(&null), y.get(key).unwrap_or(&null));
                diff_values(&format!("{path}.{key}"), va, vb, out);
            }
        }
        _ if a != b => out.push(if path.is_empty() {
            ".".into()
        } else {
            path.into()
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn config() -> MachineConfig {
        let secrets = basalt_pki::SecretsBundle::generate().unwrap();
        let opts = basalt_config::generate::GenerateOptions::new("demo", "https://10.5.0.2:6443");
        basalt_config::generate::generate(&secrets, &opts)
            .unwrap()
            .worker
    }

    #[test]
    fn allow_list_matches_whole_segments() {
        assert!(is_live(".machine.network.hostname"));
        assert!(is_live(".cluster"));
        assert!(is_live(".machine.certSANs"));
        assert!(!is_live(".machine.networkX"));
        assert!(!is_live(".machine.env"));
        assert!(!is_live(".machine.features.rbac"));
        assert!(is_live("KmsgLogConfig"));
    }

    #[test]
    fn hostname_change_is_live_env_change_needs_reboot() {
        let old = config();
        let mut new = old.clone();
        let m = &mut new.v1alpha1_mut().unwrap().machine;
        m.network.get_or_insert_with(Default::default).hostname = Some("n2".into());
        let p = plan(&old, &new);
        assert_eq!(p.changed, [".machine.network.hostname"]);
        assert!(p.needs_reboot.is_empty());

        let mut env = std::collections::BTreeMap::new();
        env.insert("A".to_string(), "b".to_string());
        new.v1alpha1_mut().unwrap().machine.env =
            Some(serde_json::from_value(serde_json::json!(env)).unwrap());
        let p = plan(&old, &new);
        assert_eq!(p.needs_reboot, [".machine.env"]);
        assert!(plan(&old, &old).changed.is_empty());
    }
}
