//! Reading patches: `@file` or inline text, strategic merge or RFC 6902.

use serde_yaml::{Mapping, Value};

use super::docs::{parse_stream_from, DocSelector};
use super::json::{JsonOp, OpKind};
use super::pointer::Pointer;
use super::{LoadedPatch, Patch, PatchError};

/// Loads a patch argument: `@path` reads the file `path`, anything else is the patch text.
pub fn load_patch_arg(arg: &str) -> Result<LoadedPatch, PatchError> {
    match arg.strip_prefix('@') {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| PatchError::Read {
                path: path.to_string(),
                source,
            })?;
            parse_patch(&text, arg)
        }
        None => parse_patch(arg, "inline"),
    }
}

/// Parses patch text. A YAML or JSON list is an RFC 6902 patch (a list of operations);
/// anything else is a strategic merge patch (a stream of one or more YAML maps).
///
/// `source` names the patch in errors (`@file.yaml` or `inline`).
pub fn parse_patch(text: &str, source: &str) -> Result<LoadedPatch, PatchError> {
    let invalid = |reason: String| PatchError::Invalid {
        origin: source.to_string(),
        reason,
    };
    let docs = parse_stream_from(text, source)?;
    let patch = match docs.as_slice() {
        [] => {
            return Err(invalid(
                "the patch is empty; give a YAML strategic merge patch or a list of RFC 6902 operations".to_string(),
            ))
        }
        [Value::Sequence(ops)] => Patch::Json(parse_ops(ops).map_err(invalid)?),
        _ => {
            for (i, doc) in docs.iter().enumerate() {
                if !doc.is_mapping() {
                    return Err(invalid(format!(
                        "document {} is {}; a strategic merge patch is made of YAML maps, and an RFC 6902 patch is a single list of operations",
                        i + 1,
                        super::pointer::kind_name(doc)
                    )));
                }
            }
            Patch::Strategic(docs)
        }
    };
    Ok(LoadedPatch {
        source: source.to_string(),
        patch,
    })
}

fn parse_ops(items: &[Value]) -> Result<Vec<JsonOp>, String> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let map = item.as_mapping().ok_or_else(|| {
                format!(
                    "operation {} is {}; each RFC 6902 operation is a map like {{op: add, path: /machine/x, value: 1}}",
                    i + 1,
                    super::pointer::kind_name(item)
                )
            })?;
            parse_op(map).map_err(|e| format!("operation {}: {e}", i + 1))
        })
        .collect()
}

fn parse_op(map: &Mapping) -> Result<JsonOp, String> {
    let op = text_member(map, "op")?;
    let path = Pointer::parse(&text_member(map, "path")?)?;
    let value = || {
        map.get("value")
            .cloned()
            .ok_or_else(|| format!("`{op}` needs a `value` member"))
    };
    let from = || Pointer::parse(&text_member(map, "from")?);
    let kind = match op.as_str() {
        "add" => OpKind::Add(value()?),
        "remove" => OpKind::Remove,
        "replace" => OpKind::Replace(value()?),
        "move" => OpKind::Move(from()?),
        "copy" => OpKind::Copy(from()?),
        "test" => OpKind::Test(value()?),
        other => {
            return Err(format!(
                "unknown op {other:?}; use one of add, remove, replace, move, copy, test"
            ))
        }
    };
    Ok(JsonOp {
        kind,
        path,
        document: document_member(map)?,
    })
}

fn text_member(map: &Mapping, name: &str) -> Result<String, String> {
    match map.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "member `{name}` is {}, it must be a string",
            super::pointer::kind_name(other)
        )),
        None => Err(format!("missing member `{name}`")),
    }
}

fn document_member(map: &Mapping) -> Result<DocSelector, String> {
    match map.get("document") {
        None => Ok(DocSelector::Default),
        Some(Value::String(s)) => Ok(DocSelector::parse(s)),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .map(DocSelector::Index)
            .ok_or_else(|| format!("`document: {n}` is not a document index (0, 1, 2 …)")),
        Some(other) => Err(format!(
            "member `document` is {}; use v1alpha1, Kind, Kind/name or an index",
            super::pointer::kind_name(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_list_is_a_json_patch_in_json_or_yaml() {
        let json = parse_patch(r#"[{"op": "add", "path": "/a", "value": 1}]"#, "inline").unwrap();
        let yaml = parse_patch("- op: add\n  path: /a\n  value: 1\n", "inline").unwrap();
        assert_eq!(json.patch, yaml.patch);
        let Patch::Json(ops) = json.patch else {
            panic!("not a JSON patch")
        };
        assert_eq!(ops[0].kind, OpKind::Add(Value::from(1)));
        assert_eq!(ops[0].document, DocSelector::Default);
    }

    #[test]
    fn maps_are_a_strategic_patch() {
        let p = parse_patch("machine: {}\n---\nkind: X\nname: y\n", "@p.yaml").unwrap();
        assert_eq!(p.source, "@p.yaml");
        let Patch::Strategic(docs) = p.patch else {
            panic!("not strategic")
        };
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn document_member_forms() {
        let p = parse_patch(
            "- {op: remove, path: /a, document: 1}\n- {op: remove, path: /a, document: K/n}\n- {op: remove, path: /a, document: v1alpha1}\n",
            "inline",
        )
        .unwrap();
        let Patch::Json(ops) = p.patch else {
            panic!("not a JSON patch")
        };
        assert_eq!(ops[0].document, DocSelector::Index(1));
        assert_eq!(ops[1].document, DocSelector::parse("K/n"));
        assert_eq!(ops[2].document, DocSelector::V1Alpha1);
    }

    #[test]
    fn bad_patches_say_what_and_where() {
        let cases = [
            ("", "inline: the patch is empty"),
            (
                "- {op: ad, path: /a}",
                "inline: operation 1: unknown op \"ad\"; use one of",
            ),
            (
                "- {op: add, path: /a}",
                "inline: operation 1: `add` needs a `value` member",
            ),
            (
                "- {op: move, path: /a}",
                "inline: operation 1: missing member `from`",
            ),
            (
                "- {op: remove, path: a}",
                "inline: operation 1: pointer \"a\" must start with '/'",
            ),
            (
                "- {op: remove}",
                "inline: operation 1: missing member `path`",
            ),
            (
                "- {op: remove, path: /a, document: -1}",
                "inline: operation 1: `document: -1` is not",
            ),
            ("- 3", "inline: operation 1 is a number"),
            ("a: 1\n---\n- x\n", "inline: document 2 is a list"),
            ("a: [", "inline: invalid YAML: document 1"),
        ];
        for (text, expected) in cases {
            let err = parse_patch(text, "inline").unwrap_err().to_string();
            assert!(err.starts_with(expected), "{text:?}: got {err}");
        }
    }

    #[test]
    fn missing_file_is_named() {
        let err = load_patch_arg("@/nonexistent/basalt/patch.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"/nonexistent/basalt/patch.yaml\""), "{err}");
    }

    #[test]
    fn file_and_inline_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cp.yaml");
        std::fs::write(&file, "machine: {type: controlplane}\n").unwrap();
        let arg = format!("@{}", file.display());
        assert_eq!(load_patch_arg(&arg).unwrap().source, arg);
        assert_eq!(load_patch_arg("machine: {}").unwrap().source, "inline");
    }
}
