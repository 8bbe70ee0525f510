//! RFC 6902 JSON patches, including Basalt's `document` member for multi-document configs.
#![allow(clippy::unwrap_used)]

use basalt_config::patch::{
    apply, apply_all, load_patch_arg, parse_patch, parse_stream, PatchError,
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

/// Applies a JSON patch to a single YAML document and returns the result.
fn run(doc: &str, patch: &str) -> Result<Value, PatchError> {
    let mut docs = vec![yaml(doc)];
    apply(&mut docs, &parse_patch(patch, "inline")?, 1)?;
    Ok(docs.remove(0))
}

#[test]
fn failing_test_op_reports_patch_operation_and_values() {
    let arg = format!("@{}", fixture("fix.yaml"));
    let patches = [
        parse_patch("machine: {network: {hostname: x}}", "inline").unwrap(),
        load_patch_arg(&arg).unwrap(),
    ];
    let text = std::fs::read_to_string(fixture("controlplane.yaml")).unwrap();
    let err = apply_all(&text, &patches).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("patch 2 ({arg}), operation 4 (test /machine/install/disk): value is \"/dev/nvme0n1\", expected \"/dev/sda\"")
    );
    match err {
        PatchError::Operation {
            patch,
            operation,
            op,
            path,
            ..
        } => {
            assert_eq!(
                (patch, operation, op, path.as_str()),
                (2, 4, "test", "/machine/install/disk")
            );
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn a_patch_is_all_or_nothing() {
    let mut docs = config();
    let patch = load_patch_arg(&format!("@{}", fixture("fix.yaml"))).unwrap();
    assert!(apply(&mut docs, &patch, 1).is_err());
    assert_eq!(
        docs,
        config(),
        "operations 1-3 succeeded but must not be kept"
    );
}

#[test]
fn successful_patch_on_the_default_document() {
    let mut docs = config();
    let patch = parse_patch(
        r#"[
            {"op": "test", "path": "/machine/install/disk", "value": "/dev/vda"},
            {"op": "replace", "path": "/machine/install/disk", "value": "/dev/nvme0n1"},
            {"op": "add", "path": "/machine/certSANs/-", "value": "cp-1.example.com"},
            {"op": "remove", "path": "/machine/network/interfaces/1"},
            {"op": "add", "path": "/machine/nodeLabels/topology.kubernetes.io~1zone", "value": "a"}
        ]"#,
        "inline",
    )
    .unwrap();
    apply(&mut docs, &patch, 1).unwrap();
    let machine = &docs[0]["machine"];
    assert_eq!(machine["install"]["disk"], "/dev/nvme0n1");
    assert_eq!(machine["certSANs"], yaml("[cp-1.example.com]"));
    assert_eq!(
        machine["network"]["interfaces"]
            .as_sequence()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(machine["nodeLabels"]["topology.kubernetes.io/zone"], "a");
    assert_eq!(docs[1..], config()[1..]);
}

#[test]
fn document_member_targets_the_second_document() {
    for selector in [
        "ExtensionServiceConfig/nut-client",
        "ExtensionServiceConfig",
        "1",
    ] {
        let mut docs = config();
        let patch = parse_patch(
            &format!("- {{op: add, path: /environment/-, value: NUT_DEBUG=1, document: {selector}}}\n- {{op: test, path: /name, value: nut-client, document: {selector}}}\n"),
            "inline",
        )
        .unwrap();
        apply(&mut docs, &patch, 1).unwrap();
        assert_eq!(
            docs[1]["environment"],
            yaml("[NUT_UPS=ups, NUT_DEBUG=1]"),
            "{selector}"
        );
        assert_eq!(docs[0], config()[0]);
        assert_eq!(docs[2], config()[2]);
    }
}

#[test]
fn unknown_document_is_an_error_listing_the_documents() {
    let mut docs = config();
    let patch = parse_patch(
        "- {op: remove, path: /apiUrl, document: KubeNetworkConfig}",
        "inline",
    )
    .unwrap();
    let err = apply(&mut docs, &patch, 3).unwrap_err().to_string();
    assert_eq!(
        err,
        "patch 3 (JSON patch), operation 1 (remove /apiUrl): document \"KubeNetworkConfig\" not found; the config has: v1alpha1, ExtensionServiceConfig/nut-client, SideroLinkConfig; set the operation's `document` member"
    );
}

#[test]
fn errors_carry_operation_index_and_path() {
    let err = run(
        "a: {b: 1}",
        "- {op: add, path: /a/c, value: 2}\n- {op: remove, path: /a/zz}\n",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "patch 1 (JSON patch), operation 2 (remove /a/zz): no key \"zz\" in /a"
    );
}

// Our own versions of the RFC 6902 appendix A examples.

#[test]
fn rfc_a1_a2_add_member_and_insert_into_list() {
    assert_eq!(
        run("x: 1", "[{op: add, path: /y, value: 2}]").unwrap(),
        yaml("{x: 1, y: 2}")
    );
    assert_eq!(
        run("l: [a, c]", "[{op: add, path: /l/1, value: b}]").unwrap(),
        yaml("l: [a, b, c]")
    );
}

#[test]
fn rfc_a3_a4_remove_member_and_list_item() {
    assert_eq!(
        run("{x: 1, y: 2}", "[{op: remove, path: /y}]").unwrap(),
        yaml("x: 1")
    );
    assert_eq!(
        run("l: [a, b, c]", "[{op: remove, path: /l/1}]").unwrap(),
        yaml("l: [a, c]")
    );
}

#[test]
fn rfc_a5_to_a7_replace_and_move() {
    assert_eq!(
        run("{x: 1, y: 2}", "[{op: replace, path: /x, value: 9}]").unwrap(),
        yaml("{x: 9, y: 2}")
    );
    assert_eq!(
        run("{a: {k: v}, b: {}}", "[{op: move, from: /a/k, path: /b/k}]").unwrap(),
        yaml("{a: {}, b: {k: v}}")
    );
    assert_eq!(
        run("l: [a, b, c, d]", "[{op: move, from: /l/1, path: /l/3}]").unwrap(),
        yaml("l: [a, c, d, b]")
    );
}

#[test]
fn rfc_a8_a9_test_success_and_failure() {
    let doc = "{s: hi, l: [1, 2]}";
    assert!(run(
        doc,
        "[{op: test, path: /s, value: hi}, {op: test, path: /l, value: [1, 2]}]"
    )
    .is_ok());
    let err = run(doc, "[{op: test, path: /s, value: bye}]")
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("value is \"hi\", expected \"bye\""), "{err}");
}

#[test]
fn rfc_a10_a16_nested_values_and_escapes() {
    assert_eq!(
        run("x: 1", "[{op: add, path: /child, value: {grand: c}}]").unwrap(),
        yaml("{x: 1, child: {grand: c}}")
    );
    assert_eq!(
        run("l: [a]", "[{op: add, path: /l/-, value: [b, c]}]").unwrap(),
        yaml("l: [a, [b, c]]")
    );
    assert!(run(
        "{'/': 9, '~1': 10}",
        "[{op: test, path: /~01, value: 10}, {op: test, path: /~1, value: 9}]"
    )
    .is_ok());
}

#[test]
fn rfc_a12_a15_errors() {
    let err = run("x: 1", "[{op: add, path: /missing/child, value: 1}]")
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("no key \"missing\" in the document root"),
        "{err}"
    );
    let err = run(
        "{'/': 9, '~1': 10}",
        "[{op: test, path: /~01, value: \"10\"}]",
    )
    .unwrap_err()
    .to_string();
    assert!(err.ends_with("value is 10, expected \"10\""), "{err}");
    let err = run("l: [a]", "[{op: add, path: /l/x, value: 1}]")
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"x\" is not a list index"), "{err}");
}
