//! Which link is "the first NIC": the lowest-ifindex Ethernet link backed by a device.

use std::path::Path;

/// The first NIC under `class_net` (normally `/sys/class/net`): the link with the lowest
/// `ifindex` whose `type` is 1 (Ethernet) and that has a `device` entry (a physical or
/// virtio NIC; `lo`, veths, bridges and other virtual links have none).
pub fn first_nic(class_net: &Path) -> Option<String> {
    let entries = std::fs::read_dir(class_net).ok()?;
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let dir = e.path();
            let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
            let kind: u32 = read("type")?.trim().parse().ok()?;
            let index: u32 = read("ifindex")?.trim().parse().ok()?;
            let physical = dir.join("device").exists();
            (kind == 1 && physical).then(|| (index, e.file_name().to_string_lossy().into_owned()))
        })
        .min()
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn link(root: &Path, name: &str, kind: u32, index: u32, device: bool) {
        let d = root.join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("type"), format!("{kind}\n")).unwrap();
        std::fs::write(d.join("ifindex"), format!("{index}\n")).unwrap();
        if device {
            std::fs::create_dir(d.join("device")).unwrap();
        }
    }

    #[test]
    fn lowest_index_physical_ethernet() {
        let t = tempfile::tempdir().unwrap();
        link(t.path(), "lo", 772, 1, false);
        link(t.path(), "veth0", 1, 2, false);
        link(t.path(), "br0", 1, 3, false);
        link(t.path(), "eth1", 1, 5, true);
        link(t.path(), "eth0", 1, 4, true);
        link(t.path(), "wg0", 65534, 6, true);
        assert_eq!(first_nic(t.path()).as_deref(), Some("eth0"));
    }

    #[test]
    fn none_without_physical_links() {
        let t = tempfile::tempdir().unwrap();
        link(t.path(), "lo", 772, 1, false);
        assert_eq!(first_nic(t.path()), None);
        assert_eq!(first_nic(&t.path().join("missing")), None);
    }
}
