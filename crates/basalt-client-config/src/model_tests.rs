#![allow(clippy::unwrap_used)]
use super::*;

const PEM: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
const KEY: &str = "-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n";

fn pem(text: &str) -> PemBlob {
    PemBlob::from_pem(text).unwrap()
}

fn ctx(endpoint: &str) -> Context {
    Context {
        endpoints: vec![endpoint.to_string()],
        ..Context::default()
    }
}

fn two_contexts() -> ClientConfig {
    let mut config = ClientConfig::with_context("a", ctx("1.1.1.1")).unwrap();
    config.merge(ClientConfig::with_context("b", ctx("2.2.2.2")).unwrap());
    config.set_current("a").unwrap();
    config
}

#[test]
fn set_current_switches_and_unknown_lists_known() {
    let mut config = two_contexts();
    config.set_current("b").unwrap();
    assert_eq!(config.current_name(), Some("b"));
    let err = config.set_current("zz").unwrap_err();
    assert_eq!(
        err.to_string(),
        "context \"zz\" is not defined; known contexts: a, b"
    );
    assert_eq!(config.current_name(), Some("b"));
}

#[test]
fn unknown_context_in_empty_config_says_how_to_add_one() {
    let err = ClientConfig::default().set_current("x").unwrap_err();
    assert!(err.to_string().contains("basaltctl config add"), "{err}");
}

#[test]
fn set_endpoints_and_nodes_trim_and_validate() {
    let mut config = two_contexts();
    config
        .set_endpoints("b", vec![" 10.0.0.1 ".into(), "lb:50000".into()])
        .unwrap();
    config.set_nodes("b", vec!["10.0.0.2".into()]).unwrap();
    let b = config.context("b").unwrap();
    assert_eq!(b.endpoints, ["10.0.0.1", "lb:50000"]);
    assert_eq!(b.nodes, ["10.0.0.2"]);

    config.set_nodes("b", vec![]).unwrap();
    assert!(config.context("b").unwrap().nodes.is_empty());

    let err = config.set_endpoints("b", vec![]).unwrap_err();
    assert!(err.to_string().contains("at least one endpoint"), "{err}");
    let err = config
        .set_nodes("b", vec!["ok".into(), "  ".into()])
        .unwrap_err();
    assert!(err.to_string().contains("entry #2"), "{err}");
    assert!(config.set_nodes("zz", vec!["x".into()]).is_err());
}

#[test]
fn add_context_refuses_duplicates_unless_replacing() {
    let mut config = two_contexts();
    config.set_nodes("a", vec!["n1".into()]).unwrap();
    config
        .add_context("c", pem(PEM), pem(PEM), pem(KEY), AddMode::New)
        .unwrap();
    assert_eq!(
        config
            .context("c")
            .unwrap()
            .key
            .as_ref()
            .unwrap()
            .as_bytes(),
        KEY.as_bytes()
    );

    let err = config
        .add_context("a", pem(PEM), pem(PEM), pem(KEY), AddMode::New)
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateContext { .. }), "{err}");
    assert!(config.context("a").unwrap().key.is_none());

    config
        .add_context("a", pem(PEM), pem(PEM), pem(KEY), AddMode::Replace)
        .unwrap();
    let a = config.context("a").unwrap();
    assert!(a.key.is_some());
    assert_eq!(a.endpoints, ["1.1.1.1"], "replace keeps endpoints");
    assert_eq!(a.nodes, ["n1"], "replace keeps nodes");
}

#[test]
fn add_context_rejects_bad_names() {
    let mut config = ClientConfig::default();
    for name in ["", " x", "a\tb"] {
        let err = config
            .add_context(name, pem(PEM), pem(PEM), pem(KEY), AddMode::New)
            .unwrap_err();
        assert!(matches!(err, Error::InvalidName { .. }), "{name:?}: {err}");
    }
}

#[test]
fn remove_refuses_current_and_unknown() {
    let mut config = two_contexts();
    let err = config.remove("a").unwrap_err();
    assert!(matches!(err, Error::RemoveCurrent { .. }), "{err}");
    assert!(config.remove("zz").is_err());
    let removed = config.remove("b").unwrap();
    assert_eq!(removed.endpoints, ["2.2.2.2"]);
    assert_eq!(config.contexts().keys().collect::<Vec<_>>(), ["a"]);
}

#[test]
fn merge_renames_conflicts_with_first_free_suffix() {
    let mut config = two_contexts();
    config.merge(ClientConfig::with_context("x", ctx("x")).unwrap());
    // "a-1" is taken, so an incoming "a" must become "a-2".
    config.merge(ClientConfig::with_context("a-1", ctx("old")).unwrap());

    let mut incoming = ClientConfig::with_context("a", ctx("9.9.9.9")).unwrap();
    incoming.merge(ClientConfig::with_context("fresh", ctx("f")).unwrap());
    incoming.set_current("a").unwrap();

    let renames = config.merge(incoming);
    assert_eq!(
        renames,
        [Rename {
            from: "a".into(),
            to: "a-2".into()
        }]
    );
    assert_eq!(renames[0].to_string(), "\"a\" -> \"a-2\"");
    assert_eq!(config.current_name(), Some("a-2"));
    assert_eq!(config.context("a").unwrap().endpoints, ["1.1.1.1"]);
    assert_eq!(config.context("a-2").unwrap().endpoints, ["9.9.9.9"]);
    assert_eq!(config.context("fresh").unwrap().endpoints, ["f"]);
}

#[test]
fn merge_without_incoming_current_keeps_ours() {
    let mut config = two_contexts();
    let mut incoming = ClientConfig::default();
    incoming.merge(ClientConfig::with_context("n", ctx("n")).unwrap());
    incoming.context = String::new();
    assert!(config.merge(incoming).is_empty());
    assert_eq!(config.current_name(), Some("a"));
    assert!(config.context("n").is_ok());
}

#[test]
fn forget_removes_even_the_current_context() {
    let mut config = two_contexts();
    assert!(config.remove("a").is_err());
    config.forget("a").unwrap();
    assert_eq!(config.current_name(), None);
    assert_eq!(config.contexts().len(), 1);
    config.forget("b").unwrap();
    assert!(config.forget("b").is_err());
}
