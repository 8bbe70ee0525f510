//! load → save → load gives the same value, for generated configs with tricky scalars.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use basalt_config::v1alpha1::{Device, FileMode, MachineFile, Route, StringMap};
use basalt_config::{Document, MachineConfig};
use proptest::prelude::*;

/// Strings that look like other YAML types, or need quoting.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("~".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("yes".to_string()),
        Just("0644".to_string()),
        Just("0x10".to_string()),
        Just("1.10".to_string()),
        Just("1e3".to_string()),
        Just("- item".to_string()),
        Just("key: value".to_string()),
        Just("# not a comment".to_string()),
        Just("line one\nline two\n".to_string()),
        "[ -~]{0,12}",
        // Raw Unicode line breaks are refused by the decoder (ambiguous between YAML 1.1 and
        // 1.2; see `raw_unicode_line_breaks_are_refused_escaped_ones_work`).
        "\\PC{0,8}".prop_map(|s: String| s.replace(['\u{85}', '\u{2028}', '\u{2029}'], "")),
    ]
}

#[test]
fn raw_unicode_line_breaks_are_refused_escaped_ones_work() {
    let raw = "version: v1alpha1\nmachine:\n  type: worker\n  token: \"a\u{2028}b\"\ncluster: {}\n";
    let err = MachineConfig::from_yaml(raw).unwrap_err().to_string();
    assert!(err.starts_with("line 4, column 12: raw U+2028"), "{err}");
    let escaped =
        "version: v1alpha1\nmachine:\n  type: worker\n  token: \"a\\u2028b\"\ncluster: {}\n";
    let cfg = MachineConfig::from_yaml(escaped).unwrap();
    assert_eq!(cfg.v1alpha1().unwrap().machine.token, "a\u{2028}b");
}

fn string_map() -> impl Strategy<Value = StringMap> {
    proptest::collection::btree_map(tricky_string(), tricky_string(), 0..4).prop_map(StringMap)
}

fn yaml_value() -> impl Strategy<Value = serde_yaml::Value> {
    let leaf = prop_oneof![
        Just(serde_yaml::Value::Null),
        any::<bool>().prop_map(serde_yaml::Value::Bool),
        any::<i64>().prop_map(|i| serde_yaml::Value::Number(i.into())),
        tricky_string().prop_map(serde_yaml::Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_yaml::Value::Sequence),
            proptest::collection::btree_map("[a-z]{1,6}", inner, 0..4).prop_map(|m| {
                serde_yaml::Value::Mapping(
                    m.into_iter()
                        .map(|(k, v)| (serde_yaml::Value::String(k), v))
                        .collect(),
                )
            }),
        ]
    })
}

fn device() -> impl Strategy<Value = Device> {
    (
        tricky_string(),
        proptest::option::of(any::<u32>()),
        proptest::collection::vec(tricky_string(), 0..3),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(name, mtu, addresses, dhcp)| Device {
            interface: Some(name),
            mtu,
            addresses: Some(addresses),
            dhcp,
            routes: Some(vec![Route {
                network: Some("0.0.0.0/0".into()),
                gateway: None,
                metric: mtu,
                ..Route::default()
            }]),
            ..Device::default()
        })
}

fn file() -> impl Strategy<Value = MachineFile> {
    (
        tricky_string(),
        0u32..=0o7777,
        tricky_string(),
        tricky_string(),
    )
        .prop_map(|(content, mode, path, op)| MachineFile {
            content,
            permissions: FileMode(mode),
            path,
            op,
        })
}

fn round_trip(cfg: &MachineConfig) {
    let text = cfg.to_yaml().unwrap();
    let back = MachineConfig::from_yaml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(&back, cfg, "\n{text}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn generated_configs_round_trip(
        name in tricky_string(),
        token in tricky_string(),
        labels in string_map(),
        args in string_map(),
        kernel_args in proptest::collection::vec(tricky_string(), 0..3),
        devices in proptest::collection::vec(device(), 0..3),
        files in proptest::collection::vec(file(), 0..3),
        audit in yaml_value(),
        debug in proptest::option::of(any::<bool>()),
    ) {
        let mut cfg = MachineConfig::from_yaml(common::CONTROLPLANE).unwrap();
        let c = cfg.v1alpha1_mut().unwrap();
        c.debug = debug;
        c.cluster.cluster_name = Some(name);
        c.machine.token = token;
        c.machine.node_labels = Some(labels);
        c.machine.kubelet.as_mut().unwrap().extra_args = Some(args);
        c.machine.install.as_mut().unwrap().extra_kernel_args = Some(kernel_args);
        c.machine.network.as_mut().unwrap().interfaces = Some(devices);
        c.machine.files = Some(files);
        // `auditPolicy: null` means "absent", as in Go, so a null policy is written as None.
        c.cluster.api_server.as_mut().unwrap().audit_policy = Some(audit).filter(|v| !v.is_null());
        round_trip(&cfg);
    }
}

#[test]
fn fixtures_round_trip_through_documents() {
    for text in [common::CONTROLPLANE, common::WORKER] {
        let cfg = MachineConfig::from_yaml(text).unwrap();
        round_trip(&cfg);
        let rebuilt = MachineConfig::new(cfg.documents.clone());
        assert!(matches!(rebuilt.documents[0], Document::V1Alpha1(_)));
        round_trip(&rebuilt);
    }
}

#[test]
fn scalars_become_strings_in_string_maps() {
    let text = common::edit(common::WORKER, &[("        disableManifestsDirectory: true", "        disableManifestsDirectory: true\n        extraArgs:\n            v: 2\n            flag: true\n            ver: 1.10\n            hex: 0x10")]);
    let cfg = MachineConfig::from_yaml(&text).unwrap();
    let args = cfg
        .v1alpha1()
        .unwrap()
        .machine
        .kubelet
        .as_ref()
        .unwrap()
        .extra_args
        .clone()
        .unwrap();
    let expected: BTreeMap<String, String> = [
        ("v", "2"),
        ("flag", "true"),
        ("ver", "1.10"),
        ("hex", "0x10"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(args.0, expected);
    round_trip(&cfg);
}
