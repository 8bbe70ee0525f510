//! Strategic merge patches on a realistic Talos-style control-plane config.
#![allow(clippy::unwrap_used)]

use basalt_config::patch::{
    apply, apply_all, load_patch_arg, parse_patch, parse_stream, LoadedPatch, PatchError,
};
use serde_yaml::Value;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/patch/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn config() -> Vec<Value> {
    parse_stream(&std::fs::read_to_string(fixture("controlplane.yaml")).unwrap()).unwrap()
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap()
}

fn at<'a>(doc: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(doc, |v, key| match key.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[key],
        })
}

fn patched(patch: &str) -> Vec<Value> {
    let mut docs = config();
    apply(&mut docs, &parse_patch(patch, "inline").unwrap(), 1).unwrap();
    docs
}

#[test]
fn file_patch_merges_interfaces_by_name_and_replaces_pod_subnets() {
    let mut docs = config();
    let patch = load_patch_arg(&format!("@{}", fixture("cp.yaml"))).unwrap();
    apply(&mut docs, &patch, 1).unwrap();
    let v1 = &docs[0];

    assert_eq!(at(v1, "machine.network.hostname"), "cp-2");
    let interfaces = at(v1, "machine.network.interfaces").as_sequence().unwrap();
    let names: Vec<&str> = interfaces
        .iter()
        .map(|i| i["interface"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["eth0", "eth1", "eth2"]);
    // eth0 merged: addresses appended, routes kept, vlan 100 merged by vlanId.
    assert_eq!(
        at(v1, "machine.network.interfaces.0.addresses"),
        &yaml("[192.168.10.11/24, 192.168.10.12/24]")
    );
    assert_eq!(
        at(v1, "machine.network.interfaces.0.routes.0.gateway"),
        "192.168.10.1"
    );
    assert_eq!(
        at(v1, "machine.network.interfaces.0.vlans"),
        &yaml("[{vlanId: 100, addresses: [10.100.0.11/24], mtu: 1400}]")
    );
    // podSubnets replaced, serviceSubnets untouched.
    assert_eq!(
        at(v1, "cluster.network.podSubnets"),
        &yaml("[10.32.0.0/12]")
    );
    assert_eq!(
        at(v1, "cluster.network.serviceSubnets"),
        &yaml("[10.96.0.0/12]")
    );
    // Companion documents untouched.
    assert_eq!(docs[1..], config()[1..]);
}

#[test]
fn ordinary_lists_append() {
    let docs = patched("machine: {network: {nameservers: [8.8.8.8]}}\ncluster: {apiServer: {certSANs: [cp.example.com]}}");
    assert_eq!(
        at(&docs[0], "machine.network.nameservers"),
        &yaml("[1.1.1.1, 8.8.8.8]")
    );
    assert_eq!(
        at(&docs[0], "cluster.apiServer.certSANs"),
        &yaml("[192.168.10.10, cp.example.com]")
    );
}

#[test]
fn audit_policy_is_replaced_as_a_whole() {
    let docs = patched("cluster: {apiServer: {auditPolicy: {apiVersion: audit.k8s.io/v1, kind: Policy, rules: [{level: None}]}}}");
    assert_eq!(
        at(&docs[0], "cluster.apiServer.auditPolicy"),
        &yaml("{apiVersion: audit.k8s.io/v1, kind: Policy, rules: [{level: None}]}")
    );
}

#[test]
fn admission_control_merges_by_plugin_name() {
    let docs = patched(
        "cluster: {apiServer: {admissionControl: [{name: PodSecurity, configuration: {defaults: {enforce: restricted}}}]}}",
    );
    let plugins = at(&docs[0], "cluster.apiServer.admissionControl")
        .as_sequence()
        .unwrap();
    assert_eq!(plugins.len(), 1);
    assert_eq!(
        at(&plugins[0], "configuration.defaults.enforce"),
        "restricted"
    );
    assert_eq!(
        at(&plugins[0], "configuration.kind"),
        "PodSecurityConfiguration"
    );
}

#[test]
fn delete_a_key_a_keyed_item_and_a_label() {
    let docs = patched(
        "machine:\n  install: {wipe: {$patch: delete}}\n  network:\n    interfaces:\n      - {interface: eth1, $patch: delete}\n  nodeLabels:\n    node.kubernetes.io/exclude-from-external-load-balancers: {$patch: delete}\n",
    );
    let v1 = &docs[0];
    assert!(at(v1, "machine.install").get("wipe").is_none());
    assert_eq!(
        at(v1, "machine.network.interfaces")
            .as_sequence()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(at(v1, "machine.nodeLabels"), &yaml("{}"));
}

#[test]
fn delete_then_re_add_an_interface_replaces_it() {
    let docs = patched(
        "machine: {network: {interfaces: [{interface: eth0, $patch: delete}, {interface: eth0, dhcp: true}]}}",
    );
    assert_eq!(
        at(&docs[0], "machine.network.interfaces"),
        &yaml("[{interface: eth1, dhcp: true}, {interface: eth0, dhcp: true}]")
    );
}

#[test]
fn delete_a_whole_document_and_add_another() {
    let docs = patched(
        "apiVersion: v1alpha1\nkind: SideroLinkConfig\n$patch: delete\n---\napiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: tailscale\nenvironment: [TS_AUTHKEY=x]\n",
    );
    let kinds: Vec<String> = docs
        .iter()
        .map(|d| {
            format!(
                "{}/{}",
                d["kind"].as_str().unwrap_or("v1alpha1"),
                d["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "v1alpha1/",
            "ExtensionServiceConfig/nut-client",
            "ExtensionServiceConfig/tailscale"
        ]
    );
}

#[test]
fn named_documents_merge_by_name() {
    let docs = patched(
        "apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: nut-client\nconfigFiles:\n  - {mountPath: /usr/local/etc/nut/upsmon.conf, content: MONITOR other}\n",
    );
    assert_eq!(
        at(&docs[1], "configFiles"),
        &yaml("[{content: MONITOR other, mountPath: /usr/local/etc/nut/upsmon.conf}]")
    );
}

#[test]
fn missing_delete_target_fails_and_changes_nothing() {
    let mut docs = config();
    let patch = parse_patch(
        "machine: {network: {hostname: cp-9, interfaces: [{interface: eth9, $patch: delete}]}}",
        "inline",
    )
    .unwrap();
    let err = apply(&mut docs, &patch, 1).unwrap_err();
    assert!(matches!(err, PatchError::Strategic { .. }));
    assert_eq!(
        err.to_string(),
        "patch 1 (strategic merge), .machine.network.interfaces[eth9]: cannot delete: no item in the config list has interface \"eth9\""
    );
    assert_eq!(
        docs,
        config(),
        "a failed patch must leave the config unchanged"
    );
}

#[test]
fn file_patches_are_named_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "machine: {certSANs: {oops: 1}}\n").unwrap();
    let arg = format!("@{}", file.display());
    let patches: Vec<LoadedPatch> = vec![
        parse_patch("machine: {network: {hostname: x}}", "inline").unwrap(),
        load_patch_arg(&arg).unwrap(),
    ];
    let text = std::fs::read_to_string(fixture("controlplane.yaml")).unwrap();
    let err = apply_all(&text, &patches).unwrap_err().to_string();
    assert_eq!(
        err,
        format!("patch 2 ({arg}), .machine.certSANs: the config has a list here but the patch has a map; write the patch value as a list, or use a JSON patch `replace`")
    );
}

#[test]
fn apply_all_renders_a_stream_that_parses_back() {
    let text = std::fs::read_to_string(fixture("controlplane.yaml")).unwrap();
    let patches = [load_patch_arg(&format!("@{}", fixture("cp.yaml"))).unwrap()];
    let out = apply_all(&text, &patches).unwrap();
    assert_eq!(out.matches("\n---\n").count(), 2, "{out}");
    let docs = parse_stream(&out).unwrap();
    assert_eq!(docs.len(), 3);
    assert_eq!(at(&docs[0], "machine.network.hostname"), "cp-2");
}
