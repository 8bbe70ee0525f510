//! The Talos-generated fixtures load, validate, and round-trip unchanged.
#![allow(clippy::unwrap_used)]

mod common;

use basalt_config::v1alpha1::MachineType;
use basalt_config::validate::{validate, Mode};
use basalt_config::MachineConfig;
use common::{edit, CONTROLPLANE, WORKER};

fn load(text: &str) -> MachineConfig {
    MachineConfig::from_yaml(text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn both_fixtures_validate_in_metal_mode_without_findings() {
    for (name, text) in [("controlplane", CONTROLPLANE), ("worker", WORKER)] {
        let report = validate(&load(text), Mode::Metal);
        assert!(
            report.errors.is_empty() && report.warnings.is_empty(),
            "{name}:\n{report}"
        );
    }
}

#[test]
fn container_mode_only_warns_that_install_is_ignored() {
    let report = validate(&load(CONTROLPLANE), Mode::Container);
    assert!(report.errors.is_empty(), "{report}");
    let warnings: Vec<String> = report.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings, ["document 1 (v1alpha1), line 108: .machine.install: is ignored in container mode (nothing is installed)"]);
}

#[test]
fn fixtures_decode_to_the_expected_values() {
    let cp = load(CONTROLPLANE);
    let c = cp.v1alpha1().unwrap();
    assert_eq!(c.machine_type(), Some(MachineType::ControlPlane));
    assert_eq!(
        c.machine.kubelet.as_ref().unwrap().image.as_deref(),
        Some("ghcr.io/siderolabs/kubelet:v1.34.1")
    );
    let labels = c.machine.node_labels.as_ref().unwrap();
    assert_eq!(
        labels.get("node.kubernetes.io/exclude-from-external-load-balancers"),
        Some("")
    );
    assert_eq!(
        c.cluster.control_plane.as_ref().unwrap().endpoint,
        "https://10.5.0.2:6443"
    );
    let os_ca = c.machine.ca.as_ref().unwrap();
    assert!(String::from_utf8(os_ca.key().unwrap().decode().unwrap())
        .unwrap()
        .starts_with("-----BEGIN ED25519 PRIVATE KEY-----"));
    assert_eq!(os_ca.crt().unwrap().pem().unwrap().tag(), "CERTIFICATE");
    let admission = &c
        .cluster
        .api_server
        .as_ref()
        .unwrap()
        .admission_control
        .as_ref()
        .unwrap()[0];
    assert_eq!(admission.name, "PodSecurity");
    let kind = admission
        .configuration
        .as_ref()
        .unwrap()
        .get("kind")
        .unwrap();
    assert_eq!(kind.as_str(), Some("PodSecurityConfiguration"));

    let worker = load(WORKER);
    let w = worker.v1alpha1().unwrap();
    assert_eq!(w.machine_type(), Some(MachineType::Worker));
    assert!(
        w.machine.ca.as_ref().unwrap().key().is_none(),
        "worker key is the empty string"
    );
    assert!(w.cluster.aggregator_ca.is_none());
}

#[test]
fn fixtures_round_trip() {
    for text in [CONTROLPLANE, WORKER] {
        let first = load(text);
        let saved = first.to_yaml().unwrap();
        let second = load(&saved);
        assert_eq!(first, second);
        assert_eq!(saved, second.to_yaml().unwrap(), "saving is stable");
    }
}

#[test]
fn unsupported_talos_field_is_reported_by_name() {
    let text = edit(
        CONTROLPLANE,
        &[(
            "    registries: {}\n",
            "    udev:\n        rules: []\n    registries: {}\n",
        )],
    );
    let err = MachineConfig::from_yaml(&text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "document 1 (v1alpha1), line 124: .machine.udev: \"udev\" is a Talos field that Basalt does not support yet; remove it"
    );
}

#[test]
fn from_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cp.yaml");
    std::fs::write(
        &path,
        edit(CONTROLPLANE, &[("    network: {}", "    netwrok: {}")]),
    )
    .unwrap();
    let err = MachineConfig::from_file(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: document 1 (v1alpha1), line 57: .machine.netwrok: unknown field \"netwrok\" (did you mean \"network\"?)", path.display())
    );
    let missing = dir.path().join("missing.yaml");
    let err = MachineConfig::from_file(&missing).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "{}: cannot read machine config:",
            missing.display()
        )),
        "{err}"
    );
    std::fs::write(&path, CONTROLPLANE).unwrap();
    assert_eq!(MachineConfig::from_file(&path).unwrap(), load(CONTROLPLANE));
}

#[test]
fn companion_documents_round_trip() {
    let text = format!(
        "{WORKER}---\napiVersion: v1alpha1\nkind: NetworkDefaultActionConfig\ningress: block\n---\napiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: kubelet\nportSelector:\n  ports:\n    - 10250\n    - 30000-32767\n  protocol: tcp\ningress:\n  - subnet: 10.0.0.0/8\n    except: 10.0.0.1/32\n---\napiVersion: v1alpha1\nkind: KmsgLogConfig\nname: remote\nurl: udp://10.5.0.1:6050\n"
    );
    let cfg = load(&text);
    assert_eq!(cfg.documents.len(), 4);
    let report = validate(&cfg, Mode::Metal);
    assert!(report.errors.is_empty(), "{report}");
    let saved = cfg.to_yaml().unwrap();
    assert_eq!(load(&saved), cfg);
}
