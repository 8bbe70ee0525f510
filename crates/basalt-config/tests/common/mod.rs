//! Shared helpers for the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

/// The control-plane config as `talosctl gen config demo https://10.5.0.2:6443` writes it.
pub const CONTROLPLANE: &str = include_str!("../fixtures/talos/controlplane.yaml");
/// The matching worker config.
pub const WORKER: &str = include_str!("../fixtures/talos/worker.yaml");

/// Applies textual edits; each `old` must occur exactly once so the edit is unambiguous.
pub fn edit(base: &str, edits: &[(&str, &str)]) -> String {
    let mut text = base.to_string();
    for (old, new) in edits {
        assert_eq!(
            text.matches(old).count(),
            1,
            "edit target {old:?} must occur exactly once"
        );
        text = text.replacen(old, new, 1);
    }
    text
}

/// 1-based line of the first line containing `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}
