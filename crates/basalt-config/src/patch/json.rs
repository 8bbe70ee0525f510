//! RFC 6902 JSON patch operations over YAML documents.
//!
//! Beyond RFC 6902, an operation may carry a `document` member choosing which document of a
//! multi-document config it edits (see [`DocSelector`]); `from` addresses the same document.

use serde_yaml::Value;

use super::docs::DocSelector;
use super::pointer::{self, get, get_mut, list_index, parse_index, prefix_text, Pointer};

/// What an operation does, with the members that kind of operation needs.
#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    /// `add`: insert into a list, or set a map key (replacing a present value).
    Add(Value),
    /// `remove`: delete the addressed value, which must exist.
    Remove,
    /// `replace`: overwrite the addressed value, which must exist.
    Replace(Value),
    /// `move`: remove the value at `from` and add it at `path`.
    Move(Pointer),
    /// `copy`: add a copy of the value at `from` at `path`.
    Copy(Pointer),
    /// `test`: fail unless the addressed value equals this one.
    Test(Value),
}

impl OpKind {
    /// The operation's name as written in a patch.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Add(_) => "add",
            OpKind::Remove => "remove",
            OpKind::Replace(_) => "replace",
            OpKind::Move(_) => "move",
            OpKind::Copy(_) => "copy",
            OpKind::Test(_) => "test",
        }
    }
}

/// One RFC 6902 operation.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonOp {
    /// What to do.
    pub kind: OpKind,
    /// The target location (`path` member).
    pub path: Pointer,
    /// Which document it applies to (`document` member).
    pub document: DocSelector,
}

/// Applies one operation to the selected document of `docs`.
///
/// On error `docs` may be partly changed; callers work on a copy (patches are all-or-nothing).
pub(crate) fn apply_op(docs: &mut [Value], op: &JsonOp) -> Result<(), String> {
    let index = op.document.select(docs)?;
    let doc = &mut docs[index];
    let path = op.path.tokens();
    match &op.kind {
        OpKind::Add(value) => add(doc, path, value.clone()),
        OpKind::Remove => remove(doc, path).map(drop),
        OpKind::Replace(value) => {
            *get_mut(doc, path)? = value.clone();
            Ok(())
        }
        OpKind::Move(from) => {
            if op.path.is_inside(from) {
                return Err(format!("cannot move {from} into its own child"));
            }
            let value = remove(doc, from.tokens()).map_err(|e| format!("from {from}: {e}"))?;
            add(doc, path, value)
        }
        OpKind::Copy(from) => {
            let value = get(doc, from.tokens())
                .map_err(|e| format!("from {from}: {e}"))?
                .clone();
            add(doc, path, value)
        }
        OpKind::Test(expected) => {
            let actual = get(doc, path)?;
            if same(actual, expected) {
                Ok(())
            } else {
                Err(format!(
                    "value is {}, expected {}",
                    super::show(actual),
                    super::show(expected)
                ))
            }
        }
    }
}

/// RFC 6902 `add`: the parent must exist; lists insert (or append with `-`), maps set.
fn add(doc: &mut Value, path: &[String], value: Value) -> Result<(), String> {
    let Some((last, parent_path)) = path.split_last() else {
        *doc = value;
        return Ok(());
    };
    match get_mut(doc, parent_path)? {
        Value::Mapping(map) => {
            map.insert(Value::String(last.clone()), value);
            Ok(())
        }
        Value::Sequence(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                parse_index(last).ok_or_else(|| {
                    format!(
                        "{last:?} is not a list index; {} is a list, use 0, 1, 2 … or '-' to append",
                        prefix_text(path, parent_path.len())
                    )
                })?
            };
            if index > items.len() {
                return Err(format!(
                    "index {index} is out of range: the list {} has {} items (use '-' to append)",
                    prefix_text(path, parent_path.len()),
                    items.len()
                ));
            }
            items.insert(index, value);
            Ok(())
        }
        other => Err(format!(
            "{} is {}, not a map or list, so nothing can be added to it",
            prefix_text(path, parent_path.len()),
            pointer::kind_name(other)
        )),
    }
}

/// RFC 6902 `remove`: the target must exist. Returns the removed value.
fn remove(doc: &mut Value, path: &[String]) -> Result<Value, String> {
    let Some((last, parent_path)) = path.split_last() else {
        return Err("cannot remove the whole document; use a strategic merge patch with `$patch: delete` to drop a document".to_string());
    };
    match get_mut(doc, parent_path)? {
        Value::Mapping(map) => map.shift_remove(last.as_str()).ok_or_else(|| {
            format!(
                "no key {last:?} in {}",
                prefix_text(path, parent_path.len())
            )
        }),
        Value::Sequence(items) => {
            let index = list_index(path, parent_path.len(), items.len())?;
            Ok(items.remove(index))
        }
        other => Err(format!(
            "{} is {}, not a map or list, so it has no {last:?}",
            prefix_text(path, parent_path.len()),
            pointer::kind_name(other)
        )),
    }
}

/// RFC 6902 equality: numbers compare by value (1 == 1.0), maps ignore key order.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Sequence(x), Value::Sequence(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Mapping(x), Value::Mapping(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    fn op(kind: OpKind, path: &str) -> JsonOp {
        JsonOp {
            kind,
            path: Pointer::parse(path).unwrap(),
            document: DocSelector::Default,
        }
    }

    fn run(doc: &str, ops: &[JsonOp]) -> Result<Value, String> {
        let mut docs = vec![yaml(doc)];
        for o in ops {
            apply_op(&mut docs, o)?;
        }
        Ok(docs.remove(0))
    }

    #[test]
    fn add_to_map_and_list() {
        let out = run(
            "foo: [bar, baz]",
            &[
                op(OpKind::Add(yaml("qux")), "/foo/1"),
                op(OpKind::Add(yaml("end")), "/foo/-"),
                op(OpKind::Add(yaml("v")), "/new"),
            ],
        );
        assert_eq!(out.unwrap(), yaml("{foo: [bar, qux, baz, end], new: v}"));
    }

    #[test]
    fn add_needs_an_existing_parent() {
        let err = run("a: 1", &[op(OpKind::Add(yaml("1")), "/x/y")]).unwrap_err();
        assert_eq!(err, "no key \"x\" in the document root");
        let err = run("a: [1]", &[op(OpKind::Add(yaml("1")), "/a/5")]).unwrap_err();
        assert!(err.contains("index 5 is out of range"), "{err}");
    }

    #[test]
    fn remove_and_replace_need_a_target() {
        let err = run("a: 1", &[op(OpKind::Remove, "/b")]).unwrap_err();
        assert_eq!(err, "no key \"b\" in the document root");
        let err = run("a: 1", &[op(OpKind::Replace(yaml("2")), "/b")]).unwrap_err();
        assert_eq!(err, "no key \"b\" in the document root");
        let out = run("a: [1, 2, 3]", &[op(OpKind::Remove, "/a/1")]).unwrap();
        assert_eq!(out, yaml("a: [1, 3]"));
    }

    #[test]
    fn remove_keeps_key_order() {
        let out = run("a: 1\nb: 2\nc: 3\n", &[op(OpKind::Remove, "/a")]).unwrap();
        let keys: Vec<_> = out.as_mapping().unwrap().keys().cloned().collect();
        assert_eq!(keys, vec![yaml("b"), yaml("c")]);
    }

    #[test]
    fn move_and_copy() {
        let from = Pointer::parse("/a/x").unwrap();
        let out = run(
            "a: {x: 1}\nb: {}\n",
            &[op(OpKind::Move(from.clone()), "/b/y")],
        )
        .unwrap();
        assert_eq!(out, yaml("{a: {}, b: {y: 1}}"));
        let out = run("a: {x: 1}\nb: {}\n", &[op(OpKind::Copy(from), "/b/y")]).unwrap();
        assert_eq!(out, yaml("{a: {x: 1}, b: {y: 1}}"));
        let err = run(
            "a: {x: {}}",
            &[op(OpKind::Move(Pointer::parse("/a").unwrap()), "/a/x/z")],
        )
        .unwrap_err();
        assert!(err.contains("into its own child"), "{err}");
    }

    #[test]
    fn test_compares_numbers_by_value() {
        assert!(run("a: 1", &[op(OpKind::Test(yaml("1.0")), "/a")]).is_ok());
        let err = run("a: {b: x}", &[op(OpKind::Test(yaml("y")), "/a/b")]).unwrap_err();
        assert_eq!(err, "value is \"x\", expected \"y\"");
    }

    #[test]
    fn root_pointer() {
        let out = run("a: 1", &[op(OpKind::Add(yaml("b: 2")), "")]).unwrap();
        assert_eq!(out, yaml("b: 2"));
        assert!(run("a: 1", &[op(OpKind::Remove, "")])
            .unwrap_err()
            .contains("whole document"));
    }
}
