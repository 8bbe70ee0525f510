//! The machine config the benchmarks work on: a realistic control-plane config.
//!
//! By default it is the Talos `controlplane.yaml` fixture of basalt-config's tests (a real
//! `talosctl gen config` output), embedded at compile time; `--config FILE` overrides it.

use std::path::Path;

/// The Talos control-plane fixture, embedded so the binary runs from anywhere.
const FIXTURE: &str = include_str!("../../basalt-config/tests/fixtures/talos/controlplane.yaml");

/// A config text and a description of where it came from.
#[derive(Debug, Clone)]
pub struct Input {
    /// The YAML text.
    pub text: String,
    /// Where it came from, for the notes column.
    pub origin: String,
}

/// Loads the benchmark config: `explicit` if given, else the embedded Talos fixture.
pub fn load(explicit: Option<&Path>) -> Result<Input, String> {
    let Some(path) = explicit else {
        return Ok(Input {
            text: FIXTURE.to_string(),
            origin: "Talos controlplane.yaml fixture".to_string(),
        });
    };
    let text = std::fs::read_to_string(path).map_err(|err| {
        format!(
            "cannot read config {}: {err}; pass an existing file with --config",
            path.display()
        )
    })?;
    Ok(Input {
        text,
        origin: path.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn default_is_the_talos_controlplane_fixture() {
        let input = load(None).unwrap();
        assert!(input.text.contains("version: v1alpha1"));
        assert!(input.text.contains("type: controlplane"));
    }

    #[test]
    fn explicit_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yaml");
        std::fs::write(&path, "version: v1alpha1\n").unwrap();
        let input = load(Some(&path)).unwrap();
        assert_eq!(input.text, "version: v1alpha1\n");
        assert!(input.origin.ends_with("c.yaml"));
    }

    #[test]
    fn missing_explicit_file_says_what_to_do() {
        let err = load(Some(Path::new("/nonexistent/c.yaml"))).unwrap_err();
        assert!(err.contains("/nonexistent/c.yaml") && err.contains("--config"));
    }
}
