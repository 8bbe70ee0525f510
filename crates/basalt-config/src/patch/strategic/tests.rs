#![allow(clippy::unwrap_used)]

use super::*;

fn stream(text: &str) -> Vec<Value> {
    crate::patch::parse_stream(text).unwrap()
}

fn merged(config: &str, patch: &str) -> Result<Vec<Value>, MergeError> {
    let mut docs = stream(config);
    apply(&mut docs, &stream(patch))?;
    Ok(docs)
}

#[test]
fn maps_merge_scalars_replace_lists_append() {
    let out = merged(
        "machine: {type: worker, certSANs: [a], network: {hostname: x}}",
        "machine: {certSANs: [b], network: {hostname: y, nameservers: [1.1.1.1]}}",
    )
    .unwrap();
    let expected = stream(
        "machine: {type: worker, certSANs: [a, b], network: {hostname: y, nameservers: [1.1.1.1]}}",
    );
    assert_eq!(out, expected);
}

#[test]
fn null_patch_values_change_nothing() {
    let out = merged("machine: {type: worker}", "machine: {type: null}").unwrap();
    assert_eq!(out, stream("machine: {type: worker}"));
}

#[test]
fn replace_fields_replace() {
    let out = merged(
        "cluster: {network: {podSubnets: [10.244.0.0/16], serviceSubnets: [10.96.0.0/12]}}",
        "cluster: {network: {podSubnets: [10.0.0.0/8]}}",
    )
    .unwrap();
    let expected =
        stream("cluster: {network: {podSubnets: [10.0.0.0/8], serviceSubnets: [10.96.0.0/12]}}");
    assert_eq!(out, expected);
}

#[test]
fn extra_args_values_replace() {
    let out = merged(
        "machine: {kubelet: {extraArgs: {a: [x], b: y}}}",
        "machine: {kubelet: {extraArgs: {a: [z]}}}",
    )
    .unwrap();
    assert_eq!(
        out,
        stream("machine: {kubelet: {extraArgs: {a: [z], b: y}}}")
    );
}

#[test]
fn vlans_merge_by_vlan_id() {
    let out = merged(
        "machine: {network: {interfaces: [{interface: eth0, vlans: [{vlanId: 100, mtu: 1500}]}]}}",
        "machine: {network: {interfaces: [{interface: eth0, vlans: [{vlanId: 100, mtu: 9000}, {vlanId: 101}]}]}}",
    )
    .unwrap();
    let expected = stream(
        "machine: {network: {interfaces: [{interface: eth0, vlans: [{vlanId: 100, mtu: 9000}, {vlanId: 101}]}]}}",
    );
    assert_eq!(out, expected);
}

#[test]
fn device_selector_is_the_key_when_no_interface() {
    let out = merged(
        "machine: {network: {interfaces: [{deviceSelector: {busPath: '0*'}, mtu: 1500}]}}",
        "machine: {network: {interfaces: [{deviceSelector: {busPath: '0*'}, dhcp: true}]}}",
    )
    .unwrap();
    let expected = stream(
        "machine: {network: {interfaces: [{deviceSelector: {busPath: '0*'}, mtu: 1500, dhcp: true}]}}",
    );
    assert_eq!(out, expected);
}

#[test]
fn delete_directives() {
    let out = merged(
        "machine: {network: {hostname: a, interfaces: [{interface: eth0}, {interface: eth1}]}}",
        "machine: {network: {hostname: {$patch: delete}, interfaces: [{interface: eth0, $patch: delete}]}}",
    )
    .unwrap();
    assert_eq!(
        out,
        stream("machine: {network: {interfaces: [{interface: eth1}]}}")
    );
}

#[test]
fn delete_in_an_unkeyed_list_matches_all_given_fields() {
    let out = merged(
        "kind: ExtensionServiceConfig\nname: f\nenvironment: [A=1]\nconfigFiles: [{content: a, mountPath: /x}, {content: b, mountPath: /y}]\n",
        "kind: ExtensionServiceConfig\nname: f\nconfigFiles: [{content: b, $patch: delete}]\n",
    )
    .unwrap();
    assert_eq!(
        out[0].get("configFiles").unwrap(),
        &stream("[{content: a, mountPath: /x}]")[0]
    );
}

#[test]
fn deleting_missing_things_names_the_path() {
    let err = merged(
        "machine: {network: {}}",
        "machine: {network: {hostname: {$patch: delete}}}",
    )
    .unwrap_err();
    assert_eq!(err.path, ".machine.network.hostname");
    assert!(err.reason.starts_with("cannot delete"), "{}", err.reason);

    let err = merged(
        "machine: {network: {interfaces: [{interface: eth0}]}}",
        "machine: {network: {interfaces: [{interface: eth9, $patch: delete}]}}",
    )
    .unwrap_err();
    assert_eq!(err.path, ".machine.network.interfaces[eth9]");
    assert_eq!(
        err.reason,
        "cannot delete: no item in the config list has interface \"eth9\""
    );

    let err = merged(
        "machine: {}",
        "machine: {install: {disk: {$patch: delete}}}",
    )
    .unwrap_err();
    assert_eq!(err.path, ".machine.install.disk");

    let err = merged("machine: {}", "kind: Foo\nname: bar\n$patch: delete\n").unwrap_err();
    assert_eq!(err.path, "Foo/bar");
    assert_eq!(
        err.reason,
        "cannot delete: the config has no document Foo/bar"
    );
}

#[test]
fn delete_item_needs_a_selector() {
    let err = merged(
        "machine: {certSANs: [{a: 1}]}",
        "machine: {certSANs: [{$patch: delete}]}",
    )
    .unwrap_err();
    assert!(
        err.reason.contains("must also say which item"),
        "{}",
        err.reason
    );
}

#[test]
fn other_directives_are_rejected() {
    let err = merged(
        "machine: {a: {b: 1}}",
        "machine: {a: {$patch: replace, b: 2}}",
    )
    .unwrap_err();
    assert_eq!(err.path, ".machine.a");
    assert!(
        err.reason.contains("`$patch: replace` is not supported"),
        "{}",
        err.reason
    );
}

#[test]
fn type_mismatch_is_an_error() {
    let err = merged("machine: {certSANs: [a]}", "machine: {certSANs: {a: 1}}").unwrap_err();
    assert_eq!(err.path, ".machine.certSANs");
    assert!(err
        .reason
        .starts_with("the config has a list here but the patch has a map"));
}

#[test]
fn documents_match_by_kind_and_name_or_append() {
    let config = "version: v1alpha1\nmachine: {}\n---\nkind: ExtensionServiceConfig\nname: a\nenvironment: [X=1]\n";
    let patch = "kind: ExtensionServiceConfig\nname: a\nenvironment: [Y=2]\n---\nkind: ExtensionServiceConfig\nname: b\n";
    let out = merged(config, patch).unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(out[1].get("environment").unwrap(), &stream("[X=1, Y=2]")[0]);
    assert_eq!(out[2].get("name").unwrap(), "b");
}

#[test]
fn whole_documents_can_be_deleted() {
    let config = "version: v1alpha1\n---\napiVersion: v1alpha1\nkind: SideroLinkConfig\n";
    let out = merged(
        config,
        "apiVersion: v1alpha1\nkind: SideroLinkConfig\n$patch: delete\n",
    )
    .unwrap();
    assert_eq!(out, stream("version: v1alpha1"));
}
