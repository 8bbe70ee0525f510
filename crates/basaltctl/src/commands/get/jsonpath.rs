//! The small subset of Kubernetes JSONPath that resource definitions' print columns
//! use: `{.field.sub}`, `{.list[0]}`, `{.list[*].name}`. Evaluated on the YAML spec.

use serde_json::Value;

/// The text of the column `path` for `spec`: scalars as they are, several results
/// joined by spaces, lists/maps as compact JSON; blank when nothing matches or the
/// path is not in the supported subset.
pub fn evaluate(path: &str, spec: &Value) -> String {
    let Some(steps) = parse(path) else {
        return String::new();
    };
    let mut current: Vec<&Value> = vec![spec];
    for step in &steps {
        current = current
            .into_iter()
            .flat_map(|value| apply(step, value))
            .collect();
    }
    current.into_iter().map(text).collect::<Vec<_>>().join(" ")
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(usize),
    All,
}

fn apply<'a>(step: &Step, value: &'a Value) -> Vec<&'a Value> {
    match (step, value) {
        (Step::Field(name), Value::Object(map)) => map.get(name).into_iter().collect(),
        (Step::Index(i), Value::Array(items)) => items.get(*i).into_iter().collect(),
        (Step::All, Value::Array(items)) => items.iter().collect(),
        (Step::All, Value::Object(map)) => map.values().collect(),
        _ => Vec::new(),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(_) | Value::Object(_) => value.to_string(),
    }
}

/// `{.a.b[0]}` → [Field a, Field b, Index 0]; `None` outside the subset.
fn parse(path: &str) -> Option<Vec<Step>> {
    let inner = path.trim().strip_prefix('{')?.strip_suffix('}')?.trim();
    let inner = inner.strip_prefix('$').unwrap_or(inner);
    let mut steps = Vec::new();
    for part in inner.split('.').skip(1) {
        let (name, mut rest) = match part.find('[') {
            Some(i) => part.split_at(i),
            None => (part, ""),
        };
        if !name.is_empty() {
            steps.push(Step::Field(name.to_string()));
        }
        while let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let index = &after[..end];
            steps.push(if index == "*" {
                Step::All
            } else {
                Step::Index(index.parse().ok()?)
            });
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    if !inner.is_empty() && !inner.starts_with('.') {
        return None;
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn evaluates_fields_indexes_and_wildcards() {
        let spec = json!({
            "running": true, "count": 3, "name": "web",
            "addresses": ["10.0.0.1", "10.0.0.2"],
            "nested": {"deep": {"value": "x"}},
            "items": [{"id": "a"}, {"id": "b"}],
        });
        assert_eq!(evaluate("{.running}", &spec), "true");
        assert_eq!(evaluate("{.count}", &spec), "3");
        assert_eq!(evaluate("{.name}", &spec), "web");
        assert_eq!(evaluate("{.nested.deep.value}", &spec), "x");
        assert_eq!(evaluate("{.addresses[1]}", &spec), "10.0.0.2");
        assert_eq!(
            evaluate("{.addresses}", &spec),
            "[\"10.0.0.1\",\"10.0.0.2\"]"
        );
        assert_eq!(evaluate("{.items[*].id}", &spec), "a b");
        assert_eq!(evaluate("{$.name}", &spec), "web");
    }

    #[test]
    fn missing_or_unsupported_paths_are_blank() {
        let spec = json!({"a": {"b": 1}});
        assert_eq!(evaluate("{.missing}", &spec), "");
        assert_eq!(evaluate("{.a.b.c}", &spec), "");
        assert_eq!(evaluate("{.a[0]}", &spec), "");
        assert_eq!(evaluate(".a", &spec), "");
        assert_eq!(evaluate("{.a[x]}", &spec), "");
        assert_eq!(evaluate("{a}", &spec), "");
    }
}
