//! `config contexts|context|endpoint|node|remove` against real files, run through the binary.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt as _;

use common::{Sandbox, TWO_CONTEXTS};

#[test]
fn contexts_table_marks_current_and_aligns() {
    let sb = Sandbox::new();
    sb.write("config", TWO_CONTEXTS);
    let out = sb.run(&["config", "contexts"]);
    assert_eq!(
        out.ok(),
        "CURRENT   NAME   ENDPOINTS   NODES\n\
         *         a      10.0.0.1    10.0.0.11\n          b      10.0.0.2\n"
    );
}

#[test]
fn contexts_json_and_yaml() {
    let sb = Sandbox::new();
    sb.write("config", TWO_CONTEXTS);
    let json = sb.run(&["config", "contexts", "-o", "json"]);
    let value: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(value[0]["name"], "a");
    assert_eq!(value[0]["current"], true);
    assert_eq!(value[1]["current"], false);
    assert_eq!(value[1]["endpoints"][0], "10.0.0.2");

    let yaml = sb.run(&["config", "contexts", "--output", "yaml"]);
    let value: serde_yaml::Value = serde_yaml::from_str(yaml.ok()).unwrap();
    assert_eq!(value[0]["nodes"][0].as_str(), Some("10.0.0.11"));
}

#[test]
fn context_switches_and_saves_privately() {
    let sb = Sandbox::new();
    sb.write("config", TWO_CONTEXTS);
    sb.run(&["config", "context", "b"]).ok();
    assert!(sb.read("config").starts_with("context: b\n"));
    let mode = std::fs::metadata(sb.path("config"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // The alias works too.
    sb.run(&["config", "use-context", "a"]).ok();
    assert!(sb.read("config").starts_with("context: a\n"));
}

#[test]
fn unknown_context_lists_known_ones_and_changes_nothing() {
    let sb = Sandbox::new();
    sb.write("config", TWO_CONTEXTS);
    let out = sb.run(&["config", "context", "nope"]);
    let err = out.fails();
    assert!(err.contains("context \"nope\" is not defined"), "{err}");
    assert!(err.contains("known contexts: a, b"), "{err}");
    assert!(err.contains(sb.path("config").to_str().unwrap()), "{err}");
    assert_eq!(sb.read("config"), TWO_CONTEXTS);
}

#[test]
fn endpoint_and_node_edit_current_or_selected_context() {
    let sb = Sandbox::new();
    sb.write("config", TWO_CONTEXTS);
    sb.run(&["config", "endpoint", "192.168.1.1", "lb:50000"])
        .ok();
    sb.run(&["config", "node", "192.168.1.5"]).ok();
    sb.run(&["--context", "b", "config", "nodes", "n1", "n2"])
        .ok();

    let json = sb.run(&["config", "contexts", "-o", "json"]);
    let value: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(
        value[0]["endpoints"],
        serde_json::json!(["192.168.1.1", "lb:50000"])
    );
    assert_eq!(value[0]["nodes"], serde_json::json!(["192.168.1.5"]));
    assert_eq!(value[1]["nodes"], serde_json::json!(["n1", "n2"]));

    // `config node` with no arguments clears the nodes.
    sb.run(&["config", "node"]).ok();
    let json = sb.run(&["config", "contexts", "-o", "json"]);
    let value: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(value[0]["nodes"], serde_json::json!([]));
}

#[test]
fn endpoint_requires_an_argument_with_usage_exit_code() {
    let sb = Sandbox::new();
    sb.write("config", TWO_CONTEXTS);
    let out = sb.run(&["config", "endpoint"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}

#[test]
fn endpoint_rejects_blank_values() {
    let sb = Sandbox::new();
    sb.write("config", TWO_CONTEXTS);
    let err = sb
        .run(&["config", "endpoint", "ok", " "])
        .fails()
        .to_string();
    assert!(err.contains("entry #2"), "{err}");
    assert_eq!(sb.read("config"), TWO_CONTEXTS);
}

#[test]
fn remove_deletes_others_but_not_current() {
    let sb = Sandbox::new();
    sb.write("config", TWO_CONTEXTS);
    let err = sb.run(&["config", "remove", "a"]).fails().to_string();
    assert!(err.contains("it is the current context"), "{err}");

    let out = sb.run(&["config", "remove", "b"]);
    out.ok();
    assert!(
        out.stderr.contains("removed context \"b\""),
        "{}",
        out.stderr
    );
    assert!(!sb.read("config").contains("10.0.0.2"));

    let err = sb.run(&["config", "remove", "b"]).fails().to_string();
    assert!(err.contains("known contexts: a"), "{err}");
}

#[test]
fn missing_file_lists_nothing_and_info_says_what_to_run() {
    let sb = Sandbox::new();
    let out = sb.run(&["config", "contexts"]);
    assert_eq!(out.ok(), "CURRENT   NAME   ENDPOINTS   NODES\n");
    assert!(
        !sb.path("config").exists(),
        "reading must not create the file"
    );

    let err = sb.run(&["config", "info"]).fails().to_string();
    let expected = format!(
        "error: no context set in {}; run `basaltctl config context NAME` or `basaltctl gen config`\n",
        sb.path("config").display()
    );
    assert_eq!(err, expected);
}

#[test]
fn malformed_file_names_file_field_and_line() {
    let sb = Sandbox::new();
    sb.write(
        "config",
        "context: a\ncontexts:\n  a:\n    endpoints: [x]\n    endpoint: [y]\n",
    );
    let err = sb.run(&["config", "contexts"]).fails().to_string();
    assert!(err.contains(sb.path("config").to_str().unwrap()), "{err}");
    assert!(err.contains("field `contexts.a.endpoint`"), "{err}");
    assert!(err.contains("line 5"), "{err}");
    assert!(err.contains("unknown field `endpoint`"), "{err}");
    assert_eq!(err.lines().count(), 1, "one message: {err}");
}

#[test]
fn not_yaml_at_all_is_a_clean_error() {
    let sb = Sandbox::new();
    sb.write("config", "context: [unclosed\n");
    let err = sb.run(&["config", "context", "a"]).fails().to_string();
    assert!(err.contains("is not a valid client config"), "{err}");
}
