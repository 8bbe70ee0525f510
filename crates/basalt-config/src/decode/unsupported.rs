//! Telling a typo from a Talos field Basalt does not support yet.
//!
//! `UNSUPPORTED` is the short, documented list of Talos `v1alpha1` fields that Basalt knows
//! about but does not implement. Anything else that is unknown is a typo (we suggest the
//! closest valid field).

/// `(parent path with indices written [], field)` of Talos fields Basalt does not support.
pub const UNSUPPORTED: &[(&str, &str)] = &[
    (".machine", "pods"),
    (".machine", "disks"),
    (".machine", "systemDiskEncryption"),
    (".machine", "udev"),
    (".machine", "seccompProfiles"),
    (".machine", "baseRuntimeSpecOverrides"),
    (".machine.network", "kubespan"),
    (".machine.network.interfaces[]", "bond"),
    (".machine.network.interfaces[]", "bridge"),
    (".machine.network.interfaces[]", "bridgePort"),
    (".machine.network.interfaces[]", "wireguard"),
    (".machine.network.interfaces[].vip", "equinixMetal"),
    (".machine.network.interfaces[].vip", "hcloud"),
    (".machine.kubelet", "credentialProviderConfig"),
    (".machine.kubelet.extraMounts[]", "uidMappings"),
    (".machine.kubelet.extraMounts[]", "gidMappings"),
    (".machine.install", "extensions"),
    (".machine.features", "imageCache"),
    (".machine.features", "nodeAddressSortAlgorithm"),
    (".cluster", "externalCloudProvider"),
    (".cluster", "allowSchedulingOnMasters"),
    (".cluster.apiServer", "authorizationConfig"),
    (".cluster.network.cni", "flannel"),
    (".cluster.etcd", "subnet"),
];

/// Replaces `[3]` by `[]` so list items match the table.
fn normalize(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' if in_index => {
                in_index = false;
                out.push(']');
            }
            c if in_index && c.is_ascii_digit() => {}
            c => {
                in_index = false;
                out.push(c);
            }
        }
    }
    out
}

/// True when `field` under `parent` is a Talos field Basalt does not support.
pub fn is_unsupported(parent: &str, field: &str) -> bool {
    let parent = normalize(parent);
    let vlan_parent = parent.replace(".vlans[]", "");
    UNSUPPORTED
        .iter()
        .any(|(p, f)| *f == field && (*p == parent || *p == vlan_parent))
}

/// The message for an unknown key.
pub fn unknown_field_message(parent: &str, field: &str, expected: &[&str]) -> String {
    if is_unsupported(parent, field) {
        return format!("{field:?} is a Talos field that Basalt does not support yet; remove it");
    }
    match closest(field, expected) {
        Some(best) => format!("unknown field {field:?} (did you mean {best:?}?)"),
        None if expected.is_empty() => format!("unknown field {field:?}; remove it"),
        None => format!(
            "unknown field {field:?}; remove it or use one of: {}",
            expected.join(", ")
        ),
    }
}

/// The expected name closest to `field`, if close enough to be a likely typo.
fn closest<'a>(field: &str, expected: &[&'a str]) -> Option<&'a str> {
    let lower = field.to_lowercase();
    expected
        .iter()
        .map(|e| (distance(&lower, &e.to_lowercase()), *e))
        .filter(|(d, e)| *d <= (e.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, e)| e)
}

/// Levenshtein distance (with adjacent transposition counted as one edit).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_gets_a_suggestion() {
        let msg = unknown_field_message(".machine", "netwrok", &["network", "token", "type"]);
        assert_eq!(msg, "unknown field \"netwrok\" (did you mean \"network\"?)");
    }

    #[test]
    fn unsupported_in_list_items() {
        assert!(is_unsupported(".machine.network.interfaces[3]", "bond"));
        assert!(is_unsupported(
            ".machine.network.interfaces[0].vlans[2].vip",
            "hcloud"
        ));
        assert!(!is_unsupported(".machine", "bond"));
    }

    #[test]
    fn far_names_get_the_list() {
        let msg = unknown_field_message(".x", "zzzz", &["enabled", "port"]);
        assert_eq!(
            msg,
            "unknown field \"zzzz\"; remove it or use one of: enabled, port"
        );
    }
}
