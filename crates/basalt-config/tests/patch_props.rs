//! Property tests for strategic merge and RFC 6902 patches.
#![allow(clippy::unwrap_used)]

use basalt_config::patch::{apply, parse_patch, LoadedPatch, Patch};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_yaml::{Mapping, Value};

/// Keys include `~` and `/` so that pointer escaping is exercised; never `-` (see `fresh`).
fn key() -> impl Strategy<Value = String> {
    "[a-z~/]{1,4}"
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z0-9 ]{0,8}".prop_map(Value::String),
    ]
}

fn to_mapping(entries: std::collections::BTreeMap<String, Value>) -> Mapping {
    entries
        .into_iter()
        .map(|(k, v)| (Value::String(k), v))
        .collect()
}

/// A document made of nested maps and scalars only.
fn maps_only_doc() -> impl Strategy<Value = Value> {
    let value = leaf().prop_recursive(3, 32, 5, |inner| {
        prop::collection::btree_map(key(), inner, 0..5).prop_map(|m| Value::Mapping(to_mapping(m)))
    });
    prop::collection::btree_map(key(), value, 1..6).prop_map(|m| Value::Mapping(to_mapping(m)))
}

/// A document with maps, lists and scalars.
fn doc() -> impl Strategy<Value = Value> {
    let value = leaf().prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Sequence),
            prop::collection::btree_map(key(), inner, 0..5)
                .prop_map(|m| Value::Mapping(to_mapping(m))),
        ]
    });
    prop::collection::btree_map(key(), value, 1..6).prop_map(|m| Value::Mapping(to_mapping(m)))
}

/// Every path (as tokens) to a value in `doc`; `maps_only` keeps paths through maps only.
fn paths(doc: &Value, maps_only: bool) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![(Vec::<String>::new(), doc)];
    while let Some((path, value)) = stack.pop() {
        match value {
            Value::Mapping(map) => {
                for (k, v) in map {
                    let mut p = path.clone();
                    p.push(k.as_str().unwrap().to_string());
                    out.push(p.clone());
                    stack.push((p, v));
                }
            }
            Value::Sequence(items) if !maps_only => {
                for (i, v) in items.iter().enumerate() {
                    let mut p = path.clone();
                    p.push(i.to_string());
                    out.push(p.clone());
                    stack.push((p, v));
                }
            }
            _ => {}
        }
    }
    out
}

fn get<'a>(doc: &'a Value, path: &[String]) -> &'a Value {
    path.iter().fold(doc, |v, t| match v {
        Value::Sequence(items) => &items[t.parse::<usize>().unwrap()],
        _ => &v[t.as_str()],
    })
}

fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// `{k1: {k2: … {kn: leaf}}}`
fn nest(path: &[String], leaf: Value) -> Value {
    path.iter().rev().fold(leaf, |inner, k| {
        let mut m = Mapping::new();
        m.insert(Value::String(k.clone()), inner);
        Value::Mapping(m)
    })
}

fn strategic(doc: Value) -> LoadedPatch {
    LoadedPatch {
        source: "inline".to_string(),
        patch: Patch::Strategic(vec![doc]),
    }
}

fn json(ops: serde_json::Value) -> LoadedPatch {
    parse_patch(&serde_json::to_string(&ops).unwrap(), "inline").unwrap()
}

proptest! {
    #[test]
    fn merging_a_maps_only_document_with_itself_changes_nothing(doc in maps_only_doc()) {
        let mut docs = vec![doc.clone()];
        apply(&mut docs, &strategic(doc.clone()), 1).unwrap();
        prop_assert_eq!(docs, vec![doc]);
    }

    #[test]
    fn delete_then_re_add_restores_the_document(doc in doc(), pick in any::<Index>()) {
        let candidates = paths(&doc, true);
        let path = pick.get(&candidates).clone();
        let original = get(&doc, &path).clone();
        let mut docs = vec![doc.clone()];

        let delete = nest(&path, serde_yaml::from_str("{$patch: delete}").unwrap());
        apply(&mut docs, &strategic(delete), 1).unwrap();
        prop_assert_ne!(&docs[0], &doc);
        apply(&mut docs, &strategic(nest(&path, original)), 2).unwrap();
        prop_assert_eq!(docs, vec![doc]);
    }

    #[test]
    fn json_test_op_checks_the_value(doc in doc(), pick in any::<Index>()) {
        let candidates = paths(&doc, false);
        let path = pick.get(&candidates).clone();
        let value = get(&doc, &path).clone();
        let mut docs = vec![doc.clone()];

        let wrong = nest(&["__wrong__".to_string()], value.clone());
        let bad = json(serde_json::json!([{"op": "test", "path": pointer(&path), "value": wrong}]));
        let err = apply(&mut docs, &bad, 1).unwrap_err().to_string();
        let expected_prefix = format!("patch 1 (JSON patch), operation 1 (test {}): value is ", pointer(&path));
        prop_assert!(err.starts_with(&expected_prefix), "{}", err);
        prop_assert_eq!(&docs, &vec![doc.clone()]);

        let good = json(serde_json::json!([{"op": "test", "path": pointer(&path), "value": value}]));
        prop_assert!(apply(&mut docs, &good, 1).is_ok());
        prop_assert_eq!(docs, vec![doc]);
    }

    #[test]
    fn json_add_then_remove_of_a_fresh_key_restores(doc in doc(), pick in any::<Index>(), value in leaf()) {
        let mut maps: Vec<Vec<String>> = paths(&doc, false)
            .into_iter()
            .filter(|p| get(&doc, p).is_mapping())
            .collect();
        maps.push(Vec::new());
        let mut target = pick.get(&maps).clone();
        target.push("fresh-key".to_string());
        let ops = serde_json::json!([
            {"op": "add", "path": pointer(&target), "value": value},
            {"op": "remove", "path": pointer(&target)},
        ]);
        let mut docs = vec![doc.clone()];
        apply(&mut docs, &json(ops), 1).unwrap();
        // Mapping equality ignores order, so check the key order explicitly too.
        prop_assert_eq!(serde_yaml::to_string(&docs[0]).unwrap(), serde_yaml::to_string(&doc).unwrap());
    }
}
