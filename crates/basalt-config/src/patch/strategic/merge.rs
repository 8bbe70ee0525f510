//! Merging one YAML value of a patch into the config, following Talos's rules.
//!
//! - maps merge per key, recursively; scalars replace; lists append;
//! - the [`rules`](super::rules) table lists fields that replace or merge items by key;
//! - a `null` patch value changes nothing (as an unset field in Talos);
//! - `key: {$patch: delete}` removes `key`; a list item `{k: v, $patch: delete}` removes the
//!   items whose `k` is `v`; deleting something absent is an error.

use serde_yaml::{Mapping, Value};

use super::rules::Rule;
use super::trail::Trail;
use super::MergeError;
use crate::patch::docs::scalar_text;
use crate::patch::pointer::kind_name;
use crate::patch::show;

const DIRECTIVE: &str = "$patch";

/// True for a map carrying `$patch: delete`.
pub(crate) fn is_delete(value: &Value) -> bool {
    value
        .as_mapping()
        .and_then(|m| m.get(DIRECTIVE))
        .and_then(Value::as_str)
        == Some("delete")
}

/// Merges `patch` into `base` at the position described by `trail`.
pub(crate) fn merge(base: &mut Value, patch: Value, trail: &mut Trail) -> Result<(), MergeError> {
    if patch.is_null() {
        return Ok(());
    }
    if base.is_null() || trail.rule() == Some(Rule::Replace) {
        *base = fresh(patch, trail)?;
        return Ok(());
    }
    match (base, patch) {
        (Value::Mapping(b), Value::Mapping(p)) => merge_map(b, p, trail),
        (Value::Sequence(b), Value::Sequence(p)) => merge_list(b, p, trail),
        (b, p) if is_scalar(b) && is_scalar(&p) => {
            *b = p;
            Ok(())
        }
        (b, p) => Err(trail.err(format!(
            "the config has {} here but the patch has {}; write the patch value as {}, or use a JSON patch `replace`",
            kind_name(b),
            kind_name(&p),
            kind_name(b)
        ))),
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Mapping(_) | Value::Sequence(_))
}

fn merge_map(base: &mut Mapping, patch: Mapping, trail: &mut Trail) -> Result<(), MergeError> {
    for (key, value) in patch {
        if key.as_str() == Some(DIRECTIVE) {
            return Err(unsupported_directive(&value, trail));
        }
        trail.push_key(&scalar_text(&key));
        let result = if is_delete(&value) {
            match base.shift_remove(&key) {
                Some(_) => Ok(()),
                None => Err(trail.err("cannot delete: the config has no such key")),
            }
        } else if let Some(existing) = base.get_mut(&key) {
            merge(existing, value, trail)
        } else {
            fresh(value, trail).map(|value| {
                base.insert(key, value);
            })
        };
        trail.pop();
        result?;
    }
    Ok(())
}

fn merge_list(
    base: &mut Vec<Value>,
    patch: Vec<Value>,
    trail: &mut Trail,
) -> Result<(), MergeError> {
    let keys: &[&str] = match trail.rule() {
        Some(Rule::Keyed(keys)) => keys,
        _ => &[],
    };
    for item in patch {
        if is_delete(&item) {
            delete_items(base, &item, keys, trail)?;
            continue;
        }
        match find_keyed(base, &item, keys) {
            Some((index, label)) => {
                trail.push_item(&label);
                let result = merge(&mut base[index], item, trail);
                trail.pop();
                result?;
            }
            None => {
                trail.push_item(&base.len().to_string());
                let result = fresh(item, trail);
                trail.pop();
                base.push(result?);
            }
        }
    }
    Ok(())
}

/// The config item matching `item` by the first of `keys` that `item` has, and its label.
fn find_keyed(base: &[Value], item: &Value, keys: &[&str]) -> Option<(usize, String)> {
    let map = item.as_mapping()?;
    let (key, wanted) = keys.iter().find_map(|k| map.get(*k).map(|v| (*k, v)))?;
    let index = base.iter().position(|e| e.get(key) == Some(wanted))?;
    Some((index, item_label(key, wanted, keys)))
}

/// `eth0` for a keyed list's key, `content="hello"` otherwise.
fn item_label(key: &str, value: &Value, keys: &[&str]) -> String {
    let plain = matches!(value, Value::String(_) | Value::Number(_));
    if keys.contains(&key) && plain {
        scalar_text(value)
    } else {
        format!("{key}={}", show(value))
    }
}

/// Removes the items matching every non-directive key of `item`; at least one must match.
fn delete_items(
    base: &mut Vec<Value>,
    item: &Value,
    keys: &[&str],
    trail: &mut Trail,
) -> Result<(), MergeError> {
    let selector: Vec<(&Value, &Value)> = item
        .as_mapping()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.as_str() != Some(DIRECTIVE))
                .collect()
        })
        .unwrap_or_default();
    if selector.is_empty() {
        return Err(trail.err(
            "a list item with `$patch: delete` must also say which item to delete, e.g. `{interface: eth1, $patch: delete}`",
        ));
    }
    let labels: Vec<String> = selector
        .iter()
        .map(|(k, v)| item_label(&scalar_text(k), v, keys))
        .collect();
    trail.push_item(&labels.join(","));
    let before = base.len();
    base.retain(|e| !selector.iter().all(|(k, v)| e.get(*k) == Some(*v)));
    let result = if base.len() == before {
        let wanted: Vec<String> = selector
            .iter()
            .map(|(k, v)| format!("{} {}", scalar_text(k), show(v)))
            .collect();
        Err(trail.err(format!(
            "cannot delete: no item in the config list has {}",
            wanted.join(" and ")
        )))
    } else {
        Ok(())
    };
    trail.pop();
    result
}

/// A patch value that has nothing to merge with: it is used as is, but it may not ask to
/// delete anything (there is nothing there to delete).
pub(crate) fn fresh(value: Value, trail: &mut Trail) -> Result<Value, MergeError> {
    check_no_directives(&value, trail)?;
    Ok(value)
}

fn check_no_directives(value: &Value, trail: &mut Trail) -> Result<(), MergeError> {
    match value {
        Value::Mapping(map) => {
            if let Some(directive) = map.get(DIRECTIVE) {
                return Err(if is_delete(value) {
                    trail.err("cannot delete: the config has nothing here")
                } else {
                    unsupported_directive(directive, trail)
                });
            }
            for (key, inner) in map {
                trail.push_key(&scalar_text(key));
                let result = check_no_directives(inner, trail);
                trail.pop();
                result?;
            }
            Ok(())
        }
        Value::Sequence(items) => {
            for (i, inner) in items.iter().enumerate() {
                trail.push_item(&i.to_string());
                let result = check_no_directives(inner, trail);
                trail.pop();
                result?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn unsupported_directive(value: &Value, trail: &Trail) -> MergeError {
    trail.err(format!(
        "`$patch: {}` is not supported here; only `$patch: delete` is, on a map value, a list item or a whole document",
        scalar_text(value)
    ))
}
